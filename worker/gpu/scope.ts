/**
 * Error scopes around GPU work: out-of-memory becomes GpuError (GPU_OUT_OF_MEMORY) naming what
 * was being created, validation errors become INTERNAL errors (they are bugs, not input faults).
 */
import { GpuError, R2TalkerError } from '../errors.ts';

export async function withGpuErrors<T>(device: GPUDevice, what: string, fn: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T;
  try {
    result = await fn();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (oom) throw GpuError.outOfMemory(`${what}: out of GPU memory (${oom.message})`);
    if (validation) throw new R2TalkerError('INTERNAL', `${what}: WebGPU validation error: ${validation.message}`);
  }
  return result;
}

/** Bytes a buffer of `bytes` takes once rounded up to the 4-byte multiple WebGPU requires. */
export function alignedSize(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

export function checkBindingSize(device: GPUDevice, label: string, bytes: number): void {
  const max = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  if (bytes > max) throw GpuError.outOfMemory(`${label}: needs ${bytes} bytes in one buffer, the device allows ${max}`);
}
