/** Small file helpers shared by the CLI commands. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { FormatError } from '../worker/errors.ts';

export async function readInputFile(file: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (err) {
    throw FormatError.input(what, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err);
  }
}

/** Writes atomically (temp file + rename) so an interrupted run never leaves half a file. */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

export async function firstExisting(dir: string, names: string[]): Promise<string | null> {
  for (const n of names) {
    const p = path.join(dir, n);
    try {
      await fs.access(p);
      return p;
    } catch {
      /* try the next name */
    }
  }
  return null;
}
