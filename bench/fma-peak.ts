/**
 * FMA peak micro-benchmark: independent vec4 multiply-add chains, timed by wall clock around a
 * submit. Measured twice, with fma() and with a * b + c, and the faster counts: software
 * drivers (SwiftShader) may emulate a correctly rounded fma() far slower than mul + add, and
 * the field kernels use mul + add.
 */
const WGSL = (op: (v: string) => string) => `
override WG: u32 = 64u;
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  var a = vec4f(f32(gid.x) * 1e-7);
  var b = a + 0.1; var c = a + 0.2; var d = a + 0.3;
  let m = vec4f(0.9999);
  let k = vec4f(1e-4);
  for (var i = 0u; i < ITERS; i++) {
    a = ${op('a')}; b = ${op('b')}; c = ${op('c')}; d = ${op('d')};
  }
  out[gid.x] = a + b + c + d;
}`;

export interface FmaPeak {
  fmaPerSecond: number;
  seconds: number;
  /** Which form was faster. */
  form: 'fma()' | 'a*b+c';
}

async function measure(device: GPUDevice, code: string, threads: number, iters: number): Promise<number> {
  const module = device.createShaderModule({ label: 'bench.fma', code: `const ITERS: u32 = ${iters}u;\n${code}` });
  const pipeline = device.createComputePipeline({ label: 'bench.fma', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buf = device.createBuffer({ label: 'bench.fma.out', size: threads * 16, usage: GPUBufferUsage.STORAGE });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const run = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(threads / 64);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  buf.destroy();
  return seconds;
}

export async function measureFmaPeak(device: GPUDevice, threads = 65536, iters = 2048): Promise<FmaPeak> {
  // 4 vec4 multiply-adds per iteration = 16 scalar multiply-adds.
  const work = threads * iters * 16;
  const a = await measure(device, WGSL((v) => `fma(${v}, m, k)`), threads, iters);
  const b = await measure(device, WGSL((v) => `${v} * m + k`), threads, iters);
  return a <= b ? { fmaPerSecond: work / a, seconds: a, form: 'fma()' } : { fmaPerSecond: work / b, seconds: b, form: 'a*b+c' };
}
