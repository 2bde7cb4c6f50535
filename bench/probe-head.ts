/**
 * Ad-hoc probe (SwiftShader): the generated fused head MLP alone (official config, random
 * weights) over SAMPLES points at SPI points per invocation, to tune its code without the march.
 * REAL=1 uploads the avatar's grid table and a non-zero FiLM (the timing did not change).
 */
import { nodeGpu } from '../tests/helpers/webgpu.ts';
import { officialAvatar } from '../tests/helpers/webgpu-avatar.ts';
import { acquireGpu } from '../worker/gpu/device.ts';
import { buildHeadFused } from '../worker/render/head-codegen.ts';
import { gridConsts, gridLevelBlock } from '../worker/render/frame-buffers.ts';
import { buildModule } from '../worker/render/wgsl.ts';
import { timeDispatch } from './dispatch-timer.ts';

const ctx = await acquireGpu({ gpu: await nodeGpu() });
const device = ctx.device;
const avatar = officialAvatar({ size: 64 });
const total = Number(process.env.SAMPLES ?? 8192);
const h = avatar.config.head;
for (const spi of (process.env.SPI ?? '1,8').split(',').map(Number)) {
  const fused = buildHeadFused(avatar, 'f32', undefined, spi)!;
  const kernel = `
struct FieldParams { eye: f32, num_rays: u32, _p0: u32, _p1: u32 }
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(3) var<uniform> film: array<vec4f, FILM_VEC4>;
@group(0) @binding(8) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(9) var<uniform> fp: FieldParams;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {
  var xs: array<vec3f, SPI>;
  var ds: array<vec3f, SPI>;
  for (var s = 0u; s < SPI; s++) {
    let i = f32(gid.x * SPI + s);
    xs[s] = vec3f(fract(i * 0.0137) - 0.5, fract(i * 0.0071) - 0.5, fract(i * 0.0031) - 0.5);
    ds[s] = normalize(vec3f(0.1, 0.2, -1.0));
  }
  let o = head_mlp(xs, ds);
  for (var s = 0u; s < SPI; s++) { out[gid.x * SPI + s] = o[s]; }
}`;
  const code = buildModule({ parts: ['common/grid-index.wgsl', 'common/grid-vec.wgsl', 'common/sh.wgsl'], consts: gridConsts(h.grid), weightType: 'f32', extra: `${fused.code}\n${kernel}` });
  const t0 = performance.now();
  const module = device.createShaderModule({ code });
  const pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const compile = performance.now() - t0;
  const threads = total / spi;
  const U = GPUBufferUsage;
  const gridData = avatar.tensors.get('encoder.embeddings')!.data as Float32Array;
  const grid = device.createBuffer({ size: gridData.byteLength, usage: U.STORAGE | U.COPY_DST });
  if (process.env.REAL) device.queue.writeBuffer(grid, 0, gridData as Float32Array<ArrayBuffer>);
  const levels = device.createBuffer({ size: 16 * h.grid.levels, usage: U.UNIFORM | U.COPY_DST });
  device.queue.writeBuffer(levels, 0, gridLevelBlock(h.grid));
  const wm = device.createBuffer({ size: fused.blocks[0].byteLength, usage: U.STORAGE | U.COPY_DST });
  device.queue.writeBuffer(wm, 0, fused.blocks[0] as Uint8Array<ArrayBuffer>);
  const film = device.createBuffer({ size: 16 * h.hiddenDim, usage: U.UNIFORM | U.COPY_DST });
  if (process.env.REAL) device.queue.writeBuffer(film, 0, Float32Array.from({ length: 4 * h.hiddenDim }, (_, i) => Math.sin(i) * 0.3));
  const o = device.createBuffer({ size: total * 16, usage: U.STORAGE });
  const fp = device.createBuffer({ size: 16, usage: U.UNIFORM });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [[0, grid], [1, levels], [2, wm], [3, film], [8, o], [9, fp]].map(([binding, buffer]) => ({ binding: binding as number, resource: { buffer: buffer as GPUBuffer } })) });
  const { wallMs: best } = await timeDispatch(device, pipe, bg, Math.ceil(threads / 64));
  const macs = total * fused.blockCount * 16;
  console.log(`head SPI=${spi} compile ${compile.toFixed(0)} ms, ${total} samples ${best.toFixed(1)} ms = ${((1000 * best) / total).toFixed(2)} us/sample, ${(macs / best / 1e6).toFixed(3)} GMAC/s`);
  for (const b of [grid, levels, wm, film, o, fp]) b.destroy();
}
process.exit(0);
