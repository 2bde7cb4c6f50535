/**
 * Ad-hoc probe (SwiftShader): the generated fused torso MLP alone (official config, random
 * weights) over PIXELS points at SPI points per invocation, to tune its code without the rest.
 */
import { nodeGpu } from '../tests/helpers/webgpu.ts';
import { officialAvatar } from '../tests/helpers/webgpu-avatar.ts';
import { acquireGpu } from '../worker/gpu/device.ts';
import { buildTorsoFused } from '../worker/render/torso-codegen.ts';
import { gridConsts, gridLevelBlock } from '../worker/render/frame-buffers.ts';
import { buildModule } from '../worker/render/wgsl.ts';
import { timeDispatch } from './dispatch-timer.ts';

const ctx = await acquireGpu({ gpu: await nodeGpu() });
const device = ctx.device;
const avatar = officialAvatar({ size: 64 });
const total = Number(process.env.PIXELS ?? 16384);
const t = avatar.config.torso!;
for (const spi of (process.env.SPI ?? '8').split(',').map(Number)) {
  const fused = buildTorsoFused(avatar, 'f32', undefined, spi)!;
  const kernel = `
const HALF_PI: f32 = 1.5707963267948966;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(5) var<storage, read> tbias: array<vec4f, TBIAS_LEN>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {
  var xs: array<vec2f, SPI>;
  for (var s = 0u; s < SPI; s++) {
    let i = f32(gid.x * SPI + s);
    xs[s] = vec2f(fract(i * 0.0137) - 0.5, fract(i * 0.0071) - 0.5) * 0.8;
  }
  let o = torso_mlp(xs);
  for (var s = 0u; s < SPI; s++) { out[gid.x * SPI + s] = o[s]; }
}`;
  const code = buildModule({ parts: ['common/grid-index.wgsl', 'common/grid-vec.wgsl'], consts: gridConsts(t.grid), weightType: 'f32', extra: `${fused.code}\n${kernel}` });
  const t0 = performance.now();
  const module = device.createShaderModule({ code });
  const pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const compile = performance.now() - t0;
  const U = GPUBufferUsage;
  const gridData = avatar.tensors.get('torso_encoder.embeddings')!.data as Float32Array;
  const grid = device.createBuffer({ size: gridData.byteLength, usage: U.STORAGE | U.COPY_DST });
  device.queue.writeBuffer(grid, 0, gridData as Float32Array<ArrayBuffer>);
  const levels = device.createBuffer({ size: 16 * t.grid.levels, usage: U.UNIFORM | U.COPY_DST });
  device.queue.writeBuffer(levels, 0, gridLevelBlock(t.grid));
  const wm = device.createBuffer({ size: fused.blocks[0].byteLength, usage: U.STORAGE | U.COPY_DST });
  device.queue.writeBuffer(wm, 0, fused.blocks[0] as Uint8Array<ArrayBuffer>);
  const bias = device.createBuffer({ size: fused.biasLength * 4, usage: U.STORAGE });
  const o = device.createBuffer({ size: total * 16, usage: U.STORAGE });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [[0, grid], [1, levels], [2, wm], [5, bias], [6, o]].map(([binding, buffer]) => ({ binding: binding as number, resource: { buffer: buffer as GPUBuffer } })) });
  const { wallMs: best } = await timeDispatch(device, pipe, bg, Math.ceil(total / spi / 64));
  const macs = total * fused.blockCount * 16;
  console.log(`torso SPI=${spi} compile ${compile.toFixed(0)} ms, ${total} pixels ${best.toFixed(1)} ms = ${((1000 * best) / total).toFixed(2)} us/pixel, ${(macs / best / 1e6).toFixed(3)} G executed multiply-adds/s (${fused.blockCount} blocks)`);
  for (const b of [grid, levels, wm, bias, o]) b.destroy();
}
process.exit(0);
