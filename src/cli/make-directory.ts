import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * `mkdir -p`: makes `path` and any missing parents; a directory already
 * there is fine. Written out instead of `mkdir(path, { recursive: true })`,
 * which in Node 20 retries for ever where a directory cannot be made in a
 * parent that exists (under /proc, say): here the second ENOENT is final.
 * Fails with the error of the directory that could not be made (EEXIST when
 * a file of that name is in the way).
 */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(path)).isDirectory()) return;
      throw e;
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw e;
    await makeDirectory(parent);
    await mkdir(path);
  }
}
