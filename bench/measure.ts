/** Bench helpers: per-stage timestamp queries and the model's multiply-adds per frame. */
import type { ModelConfig } from '../worker/avatar/config.ts';
import type { GpuFrameInput, GpuRenderer } from '../worker/render/renderer.ts';

export const STAGES = ['condition', 'rays', 'march+field', 'torso', 'output'];

/**
 * GPU ms of each stage of one frame: timestamp queries where the adapter has them, else wall
 * time (`source` says which; `wall` forces it): stage i is the best-of-3 time of stages 0..i, less that of 0..i-1.
 */
export async function stageTimes(renderer: GpuRenderer, frame: GpuFrameInput, opts: { wall?: boolean } = {}): Promise<{ ms: number[]; source: 'timestamp queries' | 'wall time of stage prefixes' }> {
  const device = renderer.device;
  if (opts.wall || !renderer.context.caps.timestamps) {
    const prefix: number[] = [];
    for (let last = 0; last < STAGES.length; last++) {
      let best = Infinity;
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        device.queue.submit([renderer.encodeFrame(frame, undefined, last)]);
        await device.queue.onSubmittedWorkDone();
        best = Math.min(best, performance.now() - t0);
      }
      prefix.push(best);
    }
    return { ms: prefix.map((v, i) => Math.max(0, v - (i ? prefix[i - 1] : 0))), source: 'wall time of stage prefixes' };
  }
  const n = 2 * STAGES.length;
  const querySet = device.createQuerySet({ label: 'bench.timestamps', type: 'timestamp', count: n });
  const resolve = device.createBuffer({ label: 'bench.resolve', size: 8 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ label: 'bench.read', size: 8 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const cmd = renderer.encodeFrame(frame, { querySet, base: 0 });
  const enc = device.createCommandEncoder();
  enc.resolveQuerySet(querySet, 0, n, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, read, 0, 8 * n);
  device.queue.submit([cmd, enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const ts = new BigUint64Array(read.getMappedRange().slice(0));
  read.unmap();
  querySet.destroy();
  resolve.destroy();
  read.destroy();
  return { ms: STAGES.map((_, i) => Number(ts[2 * i + 1] - ts[2 * i]) / 1e6), source: 'timestamp queries' };
}

/** Multiply-adds the model needs for a frame (useful work, not what a kernel pads to). */
export function frameMacs(cfg: ModelConfig, samples: number, torsoPixels: number) {
  const h = cfg.head;
  const sigmaIn = h.grid.levels * h.grid.featuresPerLevel + (h.eyeInput ? 1 : 0);
  const perSample = sigmaIn * h.hiddenDim + h.hiddenDim * h.hiddenDim + h.hiddenDim * (1 + h.geoFeatDim) + (h.shDegree ** 2 + h.geoFeatDim + h.individualDim) * h.colorHiddenDim + 3 * h.colorHiddenDim;
  const c = cfg.condition;
  const condIn = c.numLandmarks * c.window * c.grid.levels * c.grid.featuresPerLevel;
  const cond = 2 * (condIn * c.hiddenDim + c.hiddenDim * c.hiddenDim + c.hiddenDim * 2 * h.hiddenDim);
  const t = cfg.torso;
  let perTorsoPixel = 0;
  if (t) {
    const tin = 2 + 4 * t.positionDegree + 6 + 12 * t.poseDegree + t.individualDim;
    const gridOut = t.grid.levels * t.grid.featuresPerLevel;
    perTorsoPixel = tin * t.deformHiddenDim + t.deformHiddenDim * t.deformHiddenDim + 2 * t.deformHiddenDim + (gridOut + tin) * t.netHiddenDim + t.netHiddenDim * t.netHiddenDim + 4 * t.netHiddenDim;
  }
  const head = samples * perSample;
  const torso = torsoPixels * perTorsoPixel;
  return { perSample, perTorsoPixel, head, torso, cond, total: head + torso + cond };
}
