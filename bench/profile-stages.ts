/**
 * Ad-hoc profile: times the wavefront with and without the field kernel, and an empty
 * dispatch loop, to separate dispatch overhead, marching and field cost (SwiftShader).
 */
import { frontPose, officialAvatar, windowPointsFor } from '../tests/helpers/webgpu-avatar.ts';
import { GpuRenderer } from '../worker/render/renderer.ts';
import { nodeGpu } from '../tests/helpers/webgpu.ts';

const size = Number(process.env.R2T_BENCH_SIZE ?? 64);
const avatar = officialAvatar({ size });
const r = await GpuRenderer.create(avatar, { gpu: await nodeGpu() });
const pts = windowPointsFor(340, 1);
const frame = { windowPoints: pts, pose: frontPose(0.1), eye: 0.25 };
await r.render(frame, ['stats']);
const time = async (label: string) => {
  const t0 = performance.now();
  await r.renderNoReadback(frame);
  console.log(label, (performance.now() - t0).toFixed(1), 'ms');
};
await time('full');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const p = (r as unknown as { passes: Record<string, { run: (...a: unknown[]) => void; record?: (...a: unknown[]) => void }> }).passes;
const orig = { ...p };
const field = p.field.record!;
p.field.record = () => undefined;
await time('no field');
p.field.record = field;
const tor = p.torso.run;
p.torso.run = () => undefined;
await time('no torso');
const cond = p.condition.run;
p.condition.run = () => undefined;
await time('no torso, no condition');
const wf = p.wavefront.run;
p.wavefront.run = () => undefined;
await time('no torso, no condition, no wavefront');
void orig; void tor; void cond; void wf;
r.destroy();
process.exit(0);
