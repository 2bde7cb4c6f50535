/**
 * How the subject reader and writer reach files. The core is platform-free: Node implements
 * these in files.node.ts, a browser worker will implement them over OPFS. Paths are always
 * relative to the subject root and use '/' separators.
 */
import { FormatError } from '../errors.ts';

/** Read access to one subject folder. */
export interface SubjectFiles {
  /** Where the subject lives, for error messages (a folder path or an OPFS name). */
  readonly root: string;
  /** The whole file, or null when it does not exist. Other failures (permissions, I/O) throw. */
  read(path: string): Promise<Uint8Array | null>;
}

/**
 * Write access for one subject being produced. Nothing is visible at the destination until
 * `commit()`; `abort()` removes everything written so far. Both are idempotent, and after
 * either one `write` refuses.
 */
export interface SubjectSink {
  readonly root: string;
  write(path: string, bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** Refuses absolute paths, '..' and empty segments so a sink can never write outside its folder. */
export function checkRelativePath(path: string): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 512) throw FormatError.input('subject.path', `expected a relative path, got ${JSON.stringify(path)}`);
  const parts = path.split('/');
  if (path.startsWith('/') || path.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw FormatError.input('subject.path', `expected a relative path inside the subject, got ${JSON.stringify(path)}`);
  }
  return path;
}

/** An in-memory subject: tests and the browser's staging area use it. */
export class MemorySubjectFiles implements SubjectFiles {
  readonly files = new Map<string, Uint8Array>();

  constructor(readonly root = 'memory:') {}

  read(path: string): Promise<Uint8Array | null> {
    return Promise.resolve(this.files.get(checkRelativePath(path)) ?? null);
  }
}

/** A sink that publishes into a MemorySubjectFiles on commit (all files at once, or none). */
export class MemorySubjectSink implements SubjectSink {
  private staged = new Map<string, Uint8Array>();
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(readonly target: MemorySubjectFiles) {}

  get root(): string {
    return this.target.root;
  }

  write(path: string, bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') return Promise.reject(FormatError.input('subject.sink', `write of ${path} after ${this.state}`));
    this.staged.set(checkRelativePath(path), bytes.slice());
    return Promise.resolve();
  }

  commit(): Promise<void> {
    if (this.state === 'aborted') return Promise.reject(FormatError.input('subject.sink', 'commit after abort'));
    if (this.state === 'open') {
      this.target.files.clear();
      for (const [k, v] of this.staged) this.target.files.set(k, v);
      this.state = 'committed';
    }
    return Promise.resolve();
  }

  abort(): Promise<void> {
    if (this.state === 'open') this.state = 'aborted';
    this.staged.clear();
    return Promise.resolve();
  }
}
