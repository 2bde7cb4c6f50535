/**
 * Random-access bytes: the reader asks for small ranges (zip headers) and one tensor at a
 * time, so a large avatar is never buffered whole a second time. Implementations exist for
 * an in-memory Uint8Array and a browser Blob/File here, and a Node file in source.node.ts.
 */
import { FormatError } from '../errors.ts';

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes starting at `offset`; callers keep the range inside `size`.
   * The result may be a view of shared memory: copy it before keeping it.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw FormatError.avatar('file', `read of ${length} bytes at offset ${offset} is outside the ${size}-byte file`);
  }
}

/** A view over bytes already in memory; reads return subarrays, not copies. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(offset, length) {
      checkRange(bytes.byteLength, offset, length);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/** A browser Blob or File (also Node's global Blob); each read slices only that range. */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      checkRange(blob.size, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

export function toByteSource(source: ByteSource | Uint8Array | Blob): ByteSource {
  if (source instanceof Uint8Array) return bytesSource(source);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return blobSource(source);
  return source as ByteSource;
}
