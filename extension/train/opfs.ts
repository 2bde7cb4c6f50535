/**
 * The origin-private file system (OPFS) as the training job sees it: folders by '/' path,
 * whole-file reads, atomic whole-file writes, and a SubjectFiles over a prepared subject so the
 * engine's subject reader and the trainer read it exactly as they read a folder in Node.
 *
 * Atomicity: a FileSystemWritableFileStream writes to a swap file that replaces the target
 * only on close() (File System Standard), so a tab closed mid-write leaves the previous
 * checkpoint whole. Works in pages and dedicated workers alike (no sync access handles).
 */
import { checkRelativePath, type SubjectFiles } from '../../worker/subject/files.ts';

type DirWithEntries = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };

function isNotFound(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');
}

/** The folder at `path` ('' = the OPFS root); null when it is missing and `create` is false. */
export async function opfsDir(path: string, create = false): Promise<FileSystemDirectoryHandle | null> {
  let dir = await navigator.storage.getDirectory();
  if (path === '') return dir;
  for (const part of checkRelativePath(path).split('/')) {
    try {
      dir = await dir.getDirectoryHandle(part, { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
  return dir;
}

/** The folder at `path`, created when missing. */
export async function ensureDir(path: string): Promise<FileSystemDirectoryHandle> {
  return (await opfsDir(path, true))!;
}

/** The file `name` in `dir` as bytes, or null when it does not exist. */
export async function readFileIn(dir: FileSystemDirectoryHandle, name: string): Promise<Uint8Array | null> {
  let handle: FileSystemFileHandle;
  try {
    handle = await dir.getFileHandle(name);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
  return new Uint8Array(await (await handle.getFile()).arrayBuffer());
}

/** Replaces `name` in `dir` with `bytes` all at once (the swap file is committed on close). */
export async function writeFileIn(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array | Blob): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  try {
    await w.write(bytes instanceof Blob ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>]));
  } catch (e) {
    // abort() drops the swap file: the old content, if any, stays.
    await w.abort().catch(() => undefined);
    throw e;
  }
  await w.close();
}

/** Removes `name` (file or folder, recursively) from `dir`; a missing entry is not an error. */
export async function removeIn(dir: FileSystemDirectoryHandle, name: string): Promise<void> {
  try {
    await dir.removeEntry(name, { recursive: true });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** Names of the entries of `dir` that are folders. */
export async function folderNames(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const out: string[] = [];
  for await (const [name, h] of (dir as DirWithEntries).entries()) if (h.kind === 'directory') out.push(name);
  return out.sort();
}

/** A prepared subject in OPFS, read by the engine's subject reader (worker/subject/reader.ts). */
export class OpfsSubjectFiles implements SubjectFiles {
  readonly root: string;

  constructor(
    private readonly dir: FileSystemDirectoryHandle,
    /** the folder's OPFS path, for error messages */
    path: string,
  ) {
    this.root = `opfs:/${path}`;
  }

  async read(path: string): Promise<Uint8Array | null> {
    const parts = checkRelativePath(path).split('/');
    const name = parts.pop()!;
    let dir = this.dir;
    for (const part of parts) {
      try {
        dir = await dir.getDirectoryHandle(part);
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    }
    return readFileIn(dir, name);
  }
}
