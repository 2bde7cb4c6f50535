/** Ad-hoc probe: 64x64 layer, weights from storage in a loop, S samples per invocation sharing each weight load. */
import { nodeGpu } from '../tests/helpers/webgpu.ts';
import { acquireGpu } from '../worker/gpu/device.ts';
import { measureFmaPeak } from './fma-peak.ts';
import { timeDispatch } from './dispatch-timer.ts';

const ctx = await acquireGpu({ gpu: await nodeGpu() });
const device = ctx.device;
const REPS = 4;
const total = Number(process.env.SAMPLES ?? 16384);
const WG = Number(process.env.WG ?? 64);
function kernel(S: number, mode: string): string {
  const L: string[] = [];
  for (let s = 0; s < S; s++) L.push(`var x${s}: array<vec4f, 16>; var y${s}: array<vec4f, 16>;`);
  L.push(`for (var j = 0u; j < 16u; j++) { ${Array.from({ length: S }, (_, s) => `x${s}[j] = vec4f(f32(gid.x * ${S}u + ${s}u + j) * 1e-4);`).join(' ')} }`);
  for (let r = 0; r < REPS; r++) {
    const [a, b] = r % 2 === 0 ? ['x', 'y'] : ['y', 'x'];
    if (mode === 'mat') {
      L.push(`for (var j = 0u; j < 16u; j++) { ${Array.from({ length: S }, (_, s) => `var acc${s} = vec4f(0.0);`).join(' ')}`);
      L.push(`  for (var k = 0u; k < 16u; k++) { let w = wm[j * 16u + k]; ${Array.from({ length: S }, (_, s) => `acc${s} += w * ${a}${s}[k];`).join(' ')} }`);
      L.push(`  ${Array.from({ length: S }, (_, s) => `${b}${s}[j] = max(acc${s}, vec4f(0.0));`).join(' ')} }`);
    } else {
      // inner unrolled over k with dynamic j
      L.push(`for (var j = 0u; j < 16u; j++) { let base = j * 16u;`);
      for (let s = 0; s < S; s++) L.push(`  var acc${s} = vec4f(0.0);`);
      for (let k = 0; k < 16; k++) L.push(`  { let w = wm[base + ${k}u]; ${Array.from({ length: S }, (_, s) => `acc${s} += w * ${a}${s}[${k}];`).join(' ')} }`);
      L.push(`  ${Array.from({ length: S }, (_, s) => `${b}${s}[j] = max(acc${s}, vec4f(0.0));`).join(' ')} }`);
    }
  }
  const fin = REPS % 2 === 0 ? 'x' : 'y';
  L.push(`var sum = vec4f(0.0); for (var j = 0u; j < 16u; j++) { ${Array.from({ length: S }, (_, s) => `sum += ${fin}${s}[j];`).join(' ')} }`);
  L.push('out[gid.x] = sum;');
  return `@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;\n@group(0) @binding(1) var<storage, read> wm: array<mat4x4f, 256>;\n@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3u) {\n  ${L.join('\n  ')}\n}`;
}
const macs = total * REPS * 256 * 16;
for (const mode of (process.env.MODES ?? 'mat,unk').split(',')) for (const S of (process.env.S ?? '1,2,4,8').split(',').map(Number)) {
  const threads = total / S;
  const t0 = performance.now();
  const module = device.createShaderModule({ code: kernel(S, mode) });
  const pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const compile = performance.now() - t0;
  const o = device.createBuffer({ size: threads * 16, usage: GPUBufferUsage.STORAGE });
  const w = device.createBuffer({ size: 256 * 64, usage: GPUBufferUsage.STORAGE });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: o } }, { binding: 1, resource: { buffer: w } }] });
  const { wallMs: best, cpuMs: cpu } = await timeDispatch(device, pipe, bg, Math.ceil(threads / WG));
  console.log(`${mode} S=${S} WG=${WG} compile ${compile.toFixed(0).padStart(6)} ms  run ${best.toFixed(1).padStart(8)} ms wall, ${cpu.toFixed(1)} ms CPU  ${(macs / best / 1e6).toFixed(3)} GMAC/s  ${(macs / cpu / 1e6).toFixed(3)} GMAC/cpu-s`);
  o.destroy(); w.destroy();
}
const p = await measureFmaPeak(device);
console.log(`peak ${(p.fmaPerSecond / 1e9).toFixed(3)} G/s wall, ${(p.fmaPerCpuSecond / 1e9).toFixed(3)} G/cpu-s (${p.form})`);
process.exit(0);
