/**
 * EBML primitives (the binary layout of Matroska/WebM): variable-length integers, unsigned
 * and float fields, ASCII strings. Every read is checked against the bytes present. Shared by
 * the recording demuxer (demux-webm.ts) and the CLI's check of what its encoder wrote
 * (cli/video/webm-inspect.ts).
 */
import { FormatError } from '../errors.ts';

export interface Vint {
  value: number;
  length: number;
  /** all value bits set: the "unknown size" that live muxers (MediaRecorder) write */
  unknown: boolean;
}

/** An EBML number at `at`: an element ID when `keepMarker`, else a size (marker bit removed). */
export function vint(b: Uint8Array, at: number, keepMarker: boolean): Vint {
  if (at >= b.length) throw FormatError.input('webm', `expected an EBML number at byte ${at}, got the end of the file`);
  const first = b[at];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8) throw FormatError.input('webm', `expected an EBML number at byte ${at}, got the byte 0x00`);
  if (at + length > b.length) throw FormatError.input('webm', `expected ${length} bytes of EBML number at byte ${at}, got the end of the file`);
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + b[at + i];
    if (b[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

export function uint(b: Uint8Array, at: number, n: number): number {
  if (n > 8) throw FormatError.input('webm', `expected an unsigned field of at most 8 bytes at byte ${at}, got ${n}`);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[at + i];
  return v;
}

export function float(b: Uint8Array, at: number, n: number): number {
  const view = new DataView(b.buffer, b.byteOffset + at, n);
  if (n === 4) return view.getFloat32(0);
  if (n === 8) return view.getFloat64(0);
  throw FormatError.expected('INPUT_FORMAT', 'webm.float', '4 or 8 bytes', String(n));
}

export const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + Math.min(n, 256))).replace(/\0+$/, '');
