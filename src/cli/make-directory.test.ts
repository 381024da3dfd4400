import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory } from './make-directory.js';

describe('makeDirectory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sgsync-mkdir-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the directory and every missing parent', async () => {
    await makeDirectory(join(dir, 'a', 'b', 'c'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
  });

  it('accepts a directory that is already there', async () => {
    await makeDirectory(dir);
    await makeDirectory(join(dir, 'x'));
    await makeDirectory(join(dir, 'x'));
    expect(statSync(join(dir, 'x')).isDirectory()).toBe(true);
  });

  it('fails with EEXIST when a file of that name is in the way, itself or as a parent', async () => {
    writeFileSync(join(dir, 'file'), '');
    await expect(makeDirectory(join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDirectory(join(dir, 'file', 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.runIf(existsSync('/proc/self'))('fails, instead of retrying for ever, where the parent exists but takes no directories', async () => {
    await expect(makeDirectory('/proc/sgsync-no-such/templates')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
