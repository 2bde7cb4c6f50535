/**
 * A fresh ArrayBuffer holding bytes[start, end). `Uint8Array.prototype.slice` copies, but Node's
 * Buffer (what readFileSync returns, a Uint8Array subclass) overrides slice() to return a view
 * of the same memory, whose `.buffer` is the whole backing store (often an 8 KiB pool), not the
 * file. Typed arrays built on that read the wrong bytes.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): ArrayBuffer {
  const out = new Uint8Array(Math.max(0, end - start));
  out.set(bytes.subarray(start, end));
  return out.buffer;
}
