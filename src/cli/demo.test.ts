import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { selfCommand, shellWord } from './demo.js';

describe('selfCommand', () => {
  it('is npx sgsync from the root of a clone, where npm run demo starts it', () => {
    expect(selfCommand('/src/sgsync/dist/bin/sgsync.js', '/src/sgsync')).toBe('npx sgsync');
  });

  it('is node and a path that works from the directory otherwise', () => {
    expect(selfCommand('/src/sgsync/dist/bin/sgsync.js', '/src')).toBe('node sgsync/dist/bin/sgsync.js');
    expect(selfCommand('/opt/sgsync/dist/bin/sgsync.js', '/home/me')).toBe('node /opt/sgsync/dist/bin/sgsync.js');
    expect(selfCommand('/opt/my tools/sgsync.js', '/home/me')).toBe("node '/opt/my tools/sgsync.js'");
  });
});

describe('shellWord', () => {
  it('leaves plain paths alone', () => {
    expect(shellWord('/work/x/.sgsync-demo/sgsync.yaml')).toBe('/work/x/.sgsync-demo/sgsync.yaml');
  });

  it.each(["it's here/a b", 'a;rm -rf x', '$HOME/`id`', 'tab\there', 'ünï', ''])('gives the shell back %j as one word', (text) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shellWord(text)}`], { encoding: 'utf8' })).toBe(text);
  });
});
