/**
 * Splitting a head step's rays into sub-batches that fit the device's buffer limits.
 *
 * The head field keeps its activations for the backward in a few buffers whose size grows
 * with the samples of a step: at the official preset (65,536 rays x 16 sample slots, 64-wide
 * layers) the activation buffer alone is ~2.2 GB, over every adapter's
 * maxStorageBufferBindingSize. So a step runs its rays in sub-batches of at most
 * batchRayLimit() rays: the forward keeps nothing between sub-batches, and the backward
 * recomputes each sub-batch's forward before its backward (gradient checkpointing: one more
 * forward per step, memory bounded by one sub-batch), adding the sub-batches' gradients
 * (GradAccumulator). Marching and the field are deterministic, so the recomputed samples and
 * activations are the forward's own.
 */
import { shDim, type ModelConfig } from '../../../worker/avatar/config.ts';
import { ConfigError } from '../../../worker/errors.ts';
import { withGpuErrors } from '../../../worker/gpu/scope.ts';
import { makeBindGroup, makeBuffer, makeLayout, makePipeline, STORAGE, UNIFORM } from '../../../worker/render/gpu-util.ts';
import { buildModule, splitGroups } from '../../../worker/render/wgsl.ts';
import { CHUNK } from './mlp-backward.ts';

export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** Room left in every buffer for region alignment (64 floats per region) and the FiLM block. */
const SLACK_BYTES = 1 << 20;

/**
 * Bytes per sample slot of the largest per-batch buffer the head step allocates: the head's
 * activation buffer, its two backward scratch buffers, the chunked weight-gradient partials of
 * its widest layer, and the sample buffer (position + direction). Mirrors the region lists in
 * head-net.ts and the buffers of backend.ts ensureBatch.
 */
export function headBytesPerSample(config: ModelConfig): number {
  const h = config.head;
  const IN = h.grid.levels * h.grid.featuresPerLevel + (h.eyeInput ? 1 : 0);
  const H = h.hiddenDim;
  const SOUT = 1 + h.geoFeatDim;
  const CIN = shDim(h.shDegree) + h.geoFeatDim + h.individualDim;
  const CHID = h.colorHiddenDim;
  const acts = 4 + IN + 4 * H + SOUT + CIN + CHID + h.individualDim / CHUNK;
  const back1 = 3 + CIN + H + IN;
  const back2 = CHID + SOUT + H;
  const widestLayer = Math.max(IN * H, H * H, H * SOUT, CIN * CHID, CHID * 3) / CHUNK;
  const samples = 8;
  return 4 * Math.max(acts, back1, back2, widestLayer, samples);
}

/** Most rays one sub-batch may hold so that no per-batch buffer exceeds the device's limits. */
export function batchRayLimit(config: ModelConfig, limits: BufferLimits): number {
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (!(cap > SLACK_BYTES)) throw new ConfigError(`WebGPU limits: storage buffers of ${cap} bytes are too small to train on`);
  const perRay = headBytesPerSample(config) * config.march.maxSteps;
  const rays = Math.floor((cap - SLACK_BYTES) / perRay);
  if (rays < 1) throw new ConfigError(`WebGPU limits: one ray needs ${perRay} bytes of head activations, the device allows ${cap}`);
  return rays;
}

/** Sub-batches [first, count) covering n rays, each at most `limit`. */
export function rayChunks(n: number, limit: number): { first: number; count: number }[] {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`rayChunks: expected a ray count, got ${n}`);
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`rayChunks: expected a positive limit, got ${limit}`);
  const out: { first: number; count: number }[] = [];
  for (let first = 0; first < n; first += limit) out.push({ first, count: Math.min(limit, n - first) });
  return out;
}

const WG = 64;
const MAX_GROUPS = 4096;

// acc = (first ? 0 : acc) + grads, over the flat parameter layout.
const ACCUMULATE_WGSL = `
struct AccParams { total: u32, first: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> ap: AccParams;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> acc: array<f32>;
override WG_ACC: u32 = 64u;
@compute @workgroup_size(WG_ACC)
fn accumulate(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_ACC;
  for (var i = flat_index(wg, nwg, lid, WG_ACC); i < ap.total; i += total) {
    acc[i] = select(acc[i], 0.0, ap.first != 0u) + grads[i];
  }
}
`;

/**
 * Sums the gradient buffer over sub-batches: add(first = true) after the first sub-batch's
 * backward, add(false) after each later one, then copyBack() puts the sum where Adam reads it.
 */
export class GradAccumulator {
  private destroyed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly floats: number,
    private readonly grads: GPUBuffer,
    private readonly acc: GPUBuffer,
    private readonly uniforms: [GPUBuffer, GPUBuffer],
    private readonly groups: [GPUBindGroup, GPUBindGroup],
    private readonly pipeline: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice, grads: GPUBuffer, floats: number): Promise<GradAccumulator> {
    if (!Number.isInteger(floats) || floats < 1 || 4 * floats > grads.size) throw new ConfigError(`GradAccumulator: ${floats} floats do not fit the ${grads.size}-byte gradient buffer`);
    const label = 'r2t.train.gradAccumulate';
    return withGpuErrors(device, label, async () => {
      const module = device.createShaderModule({ label, code: buildModule({ parts: ['common/dispatch.wgsl'], consts: {}, weightType: 'f32', extra: ACCUMULATE_WGSL }) });
      const bgl = makeLayout(device, `${label}.bgl`, ['uniform', 'read-only-storage', 'storage']);
      const acc = makeBuffer(device, `${label}.acc`, 4 * floats, STORAGE());
      // One uniform per mode, written once: the first/next dispatches can share a command buffer.
      const uniforms: [GPUBuffer, GPUBuffer] = [0, 1].map((first) => makeBuffer(device, `${label}.params${first}`, 16, UNIFORM(), Uint32Array.from([floats, first, 0, 0]).buffer)) as [GPUBuffer, GPUBuffer];
      try {
        const groups = uniforms.map((u, k) => makeBindGroup(device, `${label}.bg${k}`, bgl, [u, grads, acc])) as [GPUBindGroup, GPUBindGroup];
        const pipeline = await makePipeline(device, label, module, 'accumulate', [bgl], { WG_ACC: WG }, 'sync');
        return new GradAccumulator(device, floats, grads, acc, uniforms, groups, pipeline);
      } catch (e) {
        for (const b of [acc, ...uniforms]) b.destroy();
        throw e;
      }
    });
  }

  get bytesHeld(): number {
    return this.acc.size + 32;
  }

  add(encoder: GPUCommandEncoder, first: boolean): void {
    if (this.destroyed) throw new ConfigError('GradAccumulator: used after destroy()');
    const pass = encoder.beginComputePass({ label: 'r2t.train.gradAccumulate' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.groups[first ? 1 : 0]);
    const [x, y] = splitGroups(Math.min(MAX_GROUPS, Math.ceil(this.floats / WG)));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  copyBack(encoder: GPUCommandEncoder): void {
    if (this.destroyed) throw new ConfigError('GradAccumulator: used after destroy()');
    encoder.copyBufferToBuffer(this.acc, 0, this.grads, 0, 4 * this.floats);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.acc, ...this.uniforms]) b.destroy();
  }
}
