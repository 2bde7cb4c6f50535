/** Copies `bytes` of a GPU buffer from `offset` back to the host through a transient MAP_READ buffer. */
export async function readBuffer(device: GPUDevice, src: GPUBuffer, bytes = src.size, offset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ label: `${src.label}.read`, size: Math.max(size, 4), usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    const enc = device.createCommandEncoder({ label: `${src.label}.read` });
    if (size > 0) enc.copyBufferToBuffer(src, offset, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0, bytes);
  } finally {
    staging.destroy();
  }
}

/** `count` floats from float index `first`. */
export async function readF32(device: GPUDevice, src: GPUBuffer, count: number, first = 0): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, src, 4 * count, 4 * first));
}
