/**
 * Node implementations of SubjectFiles (a folder on disk) and SubjectSink (atomic folder
 * output: everything is written into `<out>.partial-<pid>-<random>` beside the destination and
 * renamed into place at the end, so a crash or Ctrl-C never leaves a half-written subject).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FormatError } from '../errors.ts';
import { checkRelativePath, type SubjectFiles, type SubjectSink } from './files.ts';

/** Subject files bigger than this are refused before reading (a 4096^2 PNG is ~50 MB at worst). */
const MAX_FILE_BYTES = 256 << 20;

export function folderFiles(root: string): SubjectFiles {
  const abs = resolve(root);
  return {
    root: abs,
    async read(path) {
      const full = join(abs, checkRelativePath(path));
      try {
        const bytes = await readFile(full);
        if (bytes.byteLength > MAX_FILE_BYTES) throw FormatError.input(full, `file is ${bytes.byteLength} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return null;
        if (e instanceof FormatError) throw e;
        throw FormatError.input(full, `unreadable (${code ?? (e as Error).message})`, e);
      }
    },
  };
}

export interface FolderSinkOptions {
  /** Replace an existing destination on commit (the old one is removed only after the new one is in place). */
  overwrite?: boolean;
}

/** A sink writing `out` atomically. Refuses up front when `out` exists and overwrite is off. */
export async function folderSink(out: string, options: FolderSinkOptions = {}): Promise<SubjectSink> {
  const dest = resolve(out);
  if (existsSync(dest) && !options.overwrite) throw FormatError.input(dest, 'already exists; choose another folder or replace it (--overwrite)');
  const partial = join(dirname(dest), `${basename(dest)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(partial, { recursive: true });
  const made = new Set<string>([partial]);
  let state: 'open' | 'committed' | 'aborted' = 'open';
  return {
    root: dest,
    async write(path, bytes) {
      if (state !== 'open') throw FormatError.input(dest, `write of ${path} after ${state}`);
      const full = join(partial, checkRelativePath(path));
      const dir = dirname(full);
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      await writeFile(full, bytes);
    },
    async commit() {
      if (state === 'committed') return;
      if (state === 'aborted') throw FormatError.input(dest, 'commit after abort');
      let old: string | null = null;
      if (existsSync(dest)) {
        if (!options.overwrite) throw FormatError.input(dest, 'appeared while writing; the new subject is left in ' + partial);
        old = `${dest}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
        await rename(dest, old);
      }
      await rename(partial, dest);
      state = 'committed';
      if (old) await rm(old, { recursive: true, force: true });
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await rm(partial, { recursive: true, force: true });
    },
  };
}
