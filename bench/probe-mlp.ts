/**
 * Ad-hoc probe: one 64x64 linear layer (16x16 mat4x4 blocks) applied 4 times per invocation,
 * weights read (a) in a loop over output blocks from storage (production today), (b) the same
 * from a uniform buffer, (c) from var<workgroup> after a cooperative load, (d) fully unrolled
 * at constant indices from storage, (e) unrolled from uniform. Prints compile and run time.
 */
import { nodeGpu } from '../tests/helpers/webgpu.ts';
import { acquireGpu } from '../worker/gpu/device.ts';
import { timeDispatch } from './dispatch-timer.ts';

const ctx = await acquireGpu({ gpu: await nodeGpu() });
const device = ctx.device;
const J = 16, K = 16, REPS = 4;
const threads = Number(process.env.THREADS ?? 4096);
const body = (load: (i: string) => string, unroll: boolean) => {
  const lines: string[] = [];
  lines.push('var x: array<vec4f, 16>;');
  lines.push('for (var j = 0u; j < 16u; j++) { x[j] = vec4f(f32(gid.x + j) * 1e-4); }');
  for (let r = 0; r < REPS; r++) {
    const ins = Array.from({ length: K }, (_, k) => `x${r}_${k}`);
    for (let k = 0; k < K; k++) lines.push(`let x${r}_${k} = x[${k}];`);
    if (unroll) {
      for (let j = 0; j < J; j++) lines.push(`x[${j}] = max(${ins.map((v, k) => `${load(`${j * K + k}u`)} * ${v}`).join(' + ')}, vec4f(0.0));`);
    } else {
      lines.push(`for (var j = 0u; j < ${J}u; j++) { let b = j * ${K}u;`);
      lines.push(`  x[j] = max(${ins.map((v, k) => `${load(k ? `b + ${k}u` : 'b')} * ${v}`).join(' + ')}, vec4f(0.0)); }`);
    }
  }
  lines.push('var s = vec4f(0.0); for (var j = 0u; j < 16u; j++) { s += x[j]; }');
  lines.push('out[gid.x] = s;');
  return lines.join('\n  ');
};
const variants: Record<string, string> = {
  'storage loop': `@group(0) @binding(1) var<storage, read> wm: array<mat4x4f, 256>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {\n  ${body((i) => `wm[${i}]`, false)}\n}`,
  'uniform loop': `@group(0) @binding(1) var<uniform> wm: array<mat4x4f, 256>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {\n  ${body((i) => `wm[${i}]`, false)}\n}`,
  'workgroup loop': `@group(0) @binding(1) var<storage, read> wg_src: array<mat4x4f, 256>;\nvar<workgroup> wm: array<mat4x4f, 256>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32) {\n  for (var i = lid; i < 256u; i += 64u) { wm[i] = wg_src[i]; }\n  workgroupBarrier();\n  ${body((i) => `wm[${i}]`, false)}\n}`,
  'storage unrolled': `@group(0) @binding(1) var<storage, read> wm: array<mat4x4f, 256>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {\n  ${body((i) => `wm[${i}]`, true)}\n}`,
  'uniform unrolled': `@group(0) @binding(1) var<uniform> wm: array<mat4x4f, 256>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3u) {\n  ${body((i) => `wm[${i}]`, true)}\n}`,
};
const only = process.env.ONLY?.split(',');
const macs = threads * REPS * J * K * 16;
for (const [name, code] of Object.entries(variants)) {
  if (only && !only.some((o) => name.includes(o))) continue;
  const full = `@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;\n${code}`;
  const t0 = performance.now();
  const module = device.createShaderModule({ code: full });
  const pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const compile = performance.now() - t0;
  const o = device.createBuffer({ size: threads * 16, usage: GPUBufferUsage.STORAGE });
  const w = device.createBuffer({ size: 256 * 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: o } }, { binding: 1, resource: { buffer: w } }] });
  const { wallMs: best, cpuMs: cpu } = await timeDispatch(device, pipe, bg, threads / 64);
  console.log(`${name.padEnd(18)} compile ${compile.toFixed(0).padStart(6)} ms  run ${best.toFixed(1).padStart(8)} ms wall, ${cpu.toFixed(1)} ms CPU  ${(macs / best / 1e6).toFixed(3)} GMAC/s`);
}
process.exit(0);
