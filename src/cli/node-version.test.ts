import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from './node-version.js';

describe('nodeVersionProblem', () => {
  it.each(['20.19.0', '20.20.2', '21.0.0', '22.12.0', '24.1.0', '100.0.0'])('lets Node.js %s run sgsync', (version) => {
    expect(nodeVersionProblem(version)).toBeUndefined();
  });

  it.each(['20.18.3', '20.0.0', '18.20.4', '12.22.9', '10.19.0', '8.10.0'])('tells Node.js %s what sgsync needs and what to do', (version) => {
    expect(nodeVersionProblem(version)).toBe(
      `sgsync needs Node.js 20.19 or newer; this is Node.js ${version}. Install a newer Node.js (the current LTS release, or your distribution's newer nodejs package) and run sgsync with it.\n`,
    );
  });

  it('lets a Node whose version it cannot read go on, rather than refuse it', () => {
    expect(nodeVersionProblem('')).toBeUndefined();
    expect(nodeVersionProblem('nightly')).toBeUndefined();
  });
});
