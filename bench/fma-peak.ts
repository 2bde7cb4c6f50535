/**
 * FMA peak micro-benchmark: 8 independent vec4 multiply-add chains per invocation (enough
 * instruction-level parallelism to hide latency), over many workgroups (every core of a
 * software adapter busy), timed by wall clock and by process CPU time (SwiftShader runs in this
 * process, so CPU time is what the adapter burnt, robust to other load on a shared machine).
 * Measured with fma() and with a * b + c; the faster counts: software drivers may emulate a
 * correctly rounded fma() far slower than mul + add, and the field kernels use mul + add.
 */
import { timeDispatch } from './dispatch-timer.ts';

const CHAINS = 8;
const WGSL = (op: (v: string) => string) => `
override WG: u32 = 64u;
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let a0 = vec4f(f32(gid.x) * 1e-7);
  ${Array.from({ length: CHAINS }, (_, i) => `var c${i} = a0 + ${(0.1 * i).toFixed(1)};`).join(' ')}
  let m = vec4f(0.9999);
  let k = vec4f(1e-4);
  for (var i = 0u; i < ITERS; i++) {
    ${Array.from({ length: CHAINS }, (_, i) => `c${i} = ${op(`c${i}`)};`).join(' ')}
  }
  out[gid.x] = ${Array.from({ length: CHAINS }, (_, i) => `c${i}`).join(' + ')};
}`;

export interface FmaPeak {
  /** Scalar multiply-adds per wall-clock second. */
  fmaPerSecond: number;
  /** Scalar multiply-adds per second of process CPU time (software adapters; NaN elsewhere is fine). */
  fmaPerCpuSecond: number;
  seconds: number;
  /** Which form was faster. */
  form: 'fma()' | 'a*b+c';
}

async function measure(device: GPUDevice, code: string, threads: number, iters: number): Promise<{ wall: number; cpu: number }> {
  const module = device.createShaderModule({ label: 'bench.fma', code: `const ITERS: u32 = ${iters}u;\n${code}` });
  const pipeline = await device.createComputePipelineAsync({ label: 'bench.fma', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buf = device.createBuffer({ label: 'bench.fma.out', size: threads * 16, usage: GPUBufferUsage.STORAGE });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const t = await timeDispatch(device, pipeline, group, threads / 64);
  buf.destroy();
  return { wall: t.wallMs / 1000, cpu: t.cpuMs / 1000 };
}

/** threads: a multiple of 64 (the default gives 256 workgroups). */
export async function measureFmaPeak(device: GPUDevice, threads = 16384, iters = 1024): Promise<FmaPeak> {
  const work = threads * iters * CHAINS * 4;
  const a = await measure(device, WGSL((v) => `fma(${v}, m, k)`), threads, iters);
  const b = await measure(device, WGSL((v) => `${v} * m + k`), threads, iters);
  const best = a.wall <= b.wall ? { ...a, form: 'fma()' as const } : { ...b, form: 'a*b+c' as const };
  return { fmaPerSecond: work / best.wall, fmaPerCpuSecond: work / best.cpu, seconds: best.wall, form: best.form };
}
