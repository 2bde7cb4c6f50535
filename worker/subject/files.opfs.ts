/**
 * The subject reader's and writer's file access over the Origin Private File System, for the
 * extension (pages and workers alike): subjects live under one OPFS folder each. Writing goes
 * to a hidden `.partial-*` sibling whose files are moved into place on commit (OPFS can move
 * files, not folders), the files that make a subject readable last; so a tab closed while
 * writing never leaves a readable half subject under the real name. Unlike the Node folder
 * sink (files.node.ts), overwriting removes the old subject before the new one moves in.
 */
import { FormatError } from '../errors.ts';
import { checkRelativePath, type SubjectFiles, type SubjectSink } from './files.ts';

/** Files can be moved within OPFS (a rename, no copy) in every Chromium this extension supports
 * (116+), though TypeScript's DOM lib lacks it; folders cannot be moved at all. */
type MovableFile = FileSystemFileHandle & { move(parent: FileSystemDirectoryHandle, name: string): Promise<void> };

/** The files that make a subject usable go last: a folder whose move was cut short (the tab
 * closed) has no transforms_*.json or prepare.json, so the reader refuses it instead of
 * training on part of it. */
const LAST = ['transforms_train.json', 'transforms_val.json', 'prepare.json'];

async function filesByCommitOrder(dir: FileSystemDirectoryHandle, prefix = ''): Promise<[string, FileSystemFileHandle][]> {
  const out: [string, FileSystemFileHandle][] = [];
  for await (const [n, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (handle.kind === 'directory') out.push(...(await filesByCommitOrder(handle as FileSystemDirectoryHandle, `${prefix}${n}/`)));
    else out.push([prefix + n, handle as FileSystemFileHandle]);
  }
  const rank = (p: string): number => LAST.indexOf(p) + 1;
  return out.sort((a, b) => rank(a[0]) - rank(b[0]));
}

function isNotFound(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');
}

/** One folder name: what a user types for a subject, never a path. */
export function checkSubjectName(name: string): string {
  if (typeof name !== 'string' || !/^[^/\\]{1,120}$/.test(name) || name.startsWith('.') || name.trim() !== name) {
    throw FormatError.input('subject.name', `expected a folder name (1-120 characters, no '/' or '\\', not starting with '.'), got ${JSON.stringify(name)}`);
  }
  return name;
}

async function exists(parent: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  try {
    await parent.getDirectoryHandle(name);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** Read access to a subject folder; `root` labels it in error messages (e.g. 'opfs:subjects/me'). */
export function opfsSubjectFiles(dir: FileSystemDirectoryHandle, root: string): SubjectFiles {
  return {
    root,
    async read(path) {
      const parts = checkRelativePath(path).split('/');
      try {
        let d = dir;
        for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p);
        const file = await (await d.getFileHandle(parts[parts.length - 1])).getFile();
        return new Uint8Array(await file.arrayBuffer());
      } catch (e) {
        if (isNotFound(e)) return null;
        throw FormatError.input(`${root}/${path}`, `unreadable (${(e as Error).name}: ${(e as Error).message})`, e);
      }
    },
  };
}

export interface OpfsSinkOptions {
  /** Replace an existing subject of that name on commit (it is removed just before the new one moves in). */
  overwrite?: boolean;
}

/** A sink writing `parent/name` atomically; refuses up front when it exists and overwrite is off. */
export async function opfsSink(parent: FileSystemDirectoryHandle, name: string, options: OpfsSinkOptions = {}): Promise<SubjectSink> {
  const root = `opfs:${checkSubjectName(name)}`;
  if (!options.overwrite && (await exists(parent, name))) throw FormatError.input(root, 'already exists; choose another name or replace it');
  const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const partialName = `.partial-${name}-${tag}`;
  const partial = await parent.getDirectoryHandle(partialName, { create: true });
  const dirs = new Map<string, FileSystemDirectoryHandle>([['', partial]]);
  let state: 'open' | 'committed' | 'aborted' = 'open';

  async function dirOf(parts: string[]): Promise<FileSystemDirectoryHandle> {
    let d = partial;
    for (let i = 0; i < parts.length; i++) {
      const key = parts.slice(0, i + 1).join('/');
      const known = dirs.get(key);
      d = known ?? (await d.getDirectoryHandle(parts[i], { create: true }));
      if (!known) dirs.set(key, d);
    }
    return d;
  }

  return {
    root,
    async write(path, bytes) {
      if (state !== 'open') throw FormatError.input(root, `write of ${path} after ${state}`);
      const parts = checkRelativePath(path).split('/');
      const d = await dirOf(parts.slice(0, -1));
      const handle = await d.getFileHandle(parts[parts.length - 1], { create: true });
      let stream: FileSystemWritableFileStream | null = null;
      try {
        stream = await handle.createWritable();
        await stream.write(bytes as Uint8Array<ArrayBuffer>);
        await stream.close();
      } catch (e) {
        await stream?.abort().catch(() => {});
        // QuotaExceededError is the browser's "disk full": say so in the user's terms.
        const why = e instanceof DOMException && e.name === 'QuotaExceededError' ? 'out of browser storage space' : `${(e as Error).name}: ${(e as Error).message}`;
        throw FormatError.input(`${root}/${path}`, `cannot write (${why})`, e);
      }
    },
    async commit() {
      if (state === 'committed') return;
      if (state === 'aborted') throw FormatError.input(root, 'commit after abort');
      if (await exists(parent, name)) {
        if (!options.overwrite) throw FormatError.input(root, `appeared while writing; the new subject is left in ${partialName}`);
        await parent.removeEntry(name, { recursive: true });
      }
      const dest = await parent.getDirectoryHandle(name, { create: true });
      for (const [path, handle] of await filesByCommitOrder(partial)) {
        const parts = path.split('/');
        let d = dest;
        for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create: true });
        await (handle as MovableFile).move(d, parts[parts.length - 1]);
      }
      state = 'committed';
      await parent.removeEntry(partialName, { recursive: true });
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await parent.removeEntry(partialName, { recursive: true }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    },
  };
}

/** Removes `.partial-*` folders a closed tab left behind (call only while no preparation runs). */
export async function removeStaleSubjectFolders(parent: FileSystemDirectoryHandle): Promise<string[]> {
  const stale: string[] = [];
  for await (const [entry] of (parent as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }).entries()) {
    if (entry.startsWith('.partial-')) stale.push(entry);
  }
  for (const n of stale) await parent.removeEntry(n, { recursive: true });
  return stale;
}
