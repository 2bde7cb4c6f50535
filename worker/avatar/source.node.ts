/** A ByteSource over a file on disk (Node only): reads just the requested ranges. */
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError } from '../errors.ts';
import type { ByteSource } from './source.ts';

export interface FileByteSource extends ByteSource {
  /** Closes the file handle; safe to call more than once. */
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<FileByteSource> {
  const handle: FileHandle = await open(path, 'r');
  let closed = false;
  try {
    const { size } = await handle.stat();
    return {
      size,
      async read(offset, length) {
        if (closed) throw FormatError.avatar('file', `read from ${path} after close`);
        if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
          throw FormatError.avatar('file', `read of ${length} bytes at offset ${offset} is outside the ${size}-byte file`);
        }
        const out = new Uint8Array(length);
        let done = 0;
        // A positional read may return fewer bytes than asked; bounded because each pass makes progress or stops.
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead <= 0) throw FormatError.avatar('file', `${path} ended at ${offset + done}, expected ${size} bytes (file changed while reading?)`);
          done += bytesRead;
        }
        return out;
      },
      async close() {
        if (closed) return;
        closed = true;
        await handle.close();
      },
    };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Opens the file, runs `fn` with its source, and always closes it. */
export async function withFileSource<T>(path: string, fn: (source: ByteSource) => Promise<T>): Promise<T> {
  const source = await openFileSource(path);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}
