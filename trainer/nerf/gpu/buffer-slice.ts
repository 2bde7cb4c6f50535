/**
 * A range of a GPU buffer bound on its own (one parameter group of the flat parameter buffer,
 * one layer's activations). Offsets must be multiples of 256 bytes (WebGPU's minimum storage
 * offset alignment), which ParamLayout guarantees for parameter groups.
 */
import { ConfigError } from '../../../worker/errors.ts';

export interface BufferSlice {
  buffer: GPUBuffer;
  /** bytes; default 0 */
  offset?: number;
  /** bytes; default the rest of the buffer */
  size?: number;
}

export function asSlice(b: GPUBuffer | BufferSlice): BufferSlice {
  return 'buffer' in b ? b : { buffer: b };
}

/** Checks that `s` holds at least `bytes` and is aligned; returns the binding resource. */
export function sliceBinding(label: string, s: GPUBuffer | BufferSlice, bytes: number): GPUBufferBinding {
  const { buffer, offset = 0, size } = asSlice(s);
  if (offset % 256 !== 0) throw new ConfigError(`${label}: offset ${offset} is not a multiple of 256 bytes`);
  const avail = (size ?? buffer.size - offset);
  if (offset + avail > buffer.size || avail < bytes) throw new ConfigError(`${label}: needs ${bytes} bytes, slice holds ${Math.max(0, Math.min(avail, buffer.size - offset))}`);
  return { buffer, offset, size: Math.ceil(bytes / 4) * 4 };
}
