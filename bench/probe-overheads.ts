/**
 * Ad-hoc probe (SwiftShader): renderer construction time, the cost of an empty dispatch, and
 * per-stage wall time at R2T_BENCH_SIZE, to find where a realistic-size frame goes.
 */
import { frontPose, officialAvatar, windowPointsFor } from '../tests/helpers/webgpu-avatar.ts';
import { GpuRenderer } from '../worker/render/renderer.ts';
import { nodeGpu } from '../tests/helpers/webgpu.ts';
import { acquireGpu } from '../worker/gpu/device.ts';

const size = Number(process.env.R2T_BENCH_SIZE ?? 64);
const ctx = await acquireGpu({ gpu: await nodeGpu() });
const device = ctx.device;
// Empty dispatch cost.
const mod = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> o: array<u32>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x == 0xffffffffu) { o[0] = 1u; } }' });
const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: mod, entryPoint: 'main' } });
const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
for (const [n, groups] of [[1, 1], [100, 1], [100, 0], [10, 1024]] as const) {
  const t0 = performance.now();
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bg);
  for (let i = 0; i < n; i++) pass.dispatchWorkgroups(groups);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  console.log(`${n} dispatches of ${groups} groups: ${(performance.now() - t0).toFixed(1)} ms`);
}
const avatar = officialAvatar({ size });
let t0 = performance.now();
const r = await GpuRenderer.create(avatar, { acquire: async () => ctx, kernels: (process.env.K as 'fused' | 'loop') ?? 'fused' });
console.log('create', (performance.now() - t0).toFixed(0), 'ms');
const pts = windowPointsFor(340, 1);
const frame = { windowPoints: pts, pose: frontPose(0.1), eye: 0.25 };
t0 = performance.now();
const st = await r.render(frame, ['stats']);
console.log('first frame', (performance.now() - t0).toFixed(0), 'ms', 'samples', st.totalSamples, 'passes', st.passes);
const time = async (label: string) => {
  const t = performance.now();
  await r.renderNoReadback(frame);
  console.log(label, (performance.now() - t).toFixed(1), 'ms');
};
await time('full');
await time('full');
const p = (r as unknown as { passes: Record<string, { run: (...a: unknown[]) => void; record?: (...a: unknown[]) => void }> }).passes;
const field = p.field.record!;
p.field.record = () => undefined;
await time('no field');
p.field.record = field;
const tor = p.torso.run;
p.torso.run = () => undefined;
await time('no torso');
p.condition.run = () => undefined;
await time('no torso, no condition');
p.wavefront.run = () => undefined;
await time('no torso, no condition, no wavefront');
void tor;
r.destroy();
process.exit(0);
