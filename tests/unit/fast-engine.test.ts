/** The engine's CPU path picks fast mode by itself when exact cannot hold the frame budget. */
import { describe, expect, it } from 'vitest';
import { makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import { AvatarRenderer, CPU_POSE_HOLD } from '../../worker/engine/avatar-renderer.ts';
import type { RenderInput } from '../../worker/engine/interfaces.ts';

const input = (i: number): RenderInput => ({ timestampUs: i * 40_000, landmarks: null, poseIndex: i, eye: null, audioLevel: 0 });

async function frames(r: AvatarRenderer, n: number, poseOf = (i: number) => i): Promise<Uint8ClampedArray[]> {
  const out: Uint8ClampedArray[] = [];
  for (let i = 0; i < n; i++) {
    const f = await r.render({ ...input(i), poseIndex: poseOf(i) });
    if (f.kind !== 'rgba') throw new Error('expected rgba from the CPU path');
    out.push(f.data);
  }
  return out;
}

describe('AvatarRenderer quality on the CPU path', () => {
  // Timings are injected (timingForTests): which mode is faster depends on the machine, and the
  // governor must follow the measurement either way.
  const governor = { switchAfter: 5, warmupFrames: 1, trialFrames: 2 };

  it("'auto' tries fast once exact misses the budget, keeps it when it measures faster, and fast frames stay close to exact ones", async () => {
    const auto = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32, quality: 'auto', budgetMs: 40, governor });
    auto.timingForTests = (q) => (q === 'exact' ? 100 : 30);
    const exact = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32 });
    expect(auto.quality).toBe('exact');
    expect(auto.qualityState).toMatchObject({ mode: 'auto', quality: 'exact', reason: 'keeps-up' });
    const a = await frames(auto, 9);
    expect(auto.qualityState).toMatchObject({ quality: 'fast', reason: 'fast-faster', exactMs: 100, fastMs: 30 });
    // Fast frames on the CPU path hold the pose for CPU_POSE_HOLD renders (partial frames); the
    // first 5 frames are exact (switchAfter), so exact is compared at the pose fast mode showed.
    const e = await frames(exact, 9, (i) => (i < 5 ? i : i - (i % CPU_POSE_HOLD)));
    expect(exact.quality).toBe('exact');
    for (let i = 0; i < 9; i++) {
      let se = 0;
      for (let k = 0; k < a[i].length; k++) if (k % 4 !== 3) se += ((a[i][k] - e[i][k]) / 255) ** 2;
      const psnr = -10 * Math.log10(se / ((a[i].length / 4) * 3) || 1e-12);
      expect(psnr, `frame ${i}`).toBeGreaterThan(30); // 32x32 is far below fast mode's design size
    }
    auto.destroy();
    exact.destroy();
  }, 120_000);

  it("'auto' returns to exact, pose and all, when fast mode measures slower than exact", async () => {
    const auto = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32, quality: 'auto', budgetMs: 40, governor });
    auto.timingForTests = (q) => (q === 'exact' ? 100 : 250);
    const exact = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32 });
    const a = await frames(auto, 12);
    expect(auto.qualityState).toMatchObject({ quality: 'exact', reason: 'fast-slower', exactMs: 100, fastMs: 250 });
    // 5 exact, 3 fast (warm-up + 2 timed), exact again: frames 8.. are exact frames at their own pose.
    const e = await frames(exact, 12);
    for (let i = 8; i < 12; i++) expect(Buffer.from(a[i]).equals(Buffer.from(e[i])), `frame ${i}`).toBe(true);
    auto.destroy();
    exact.destroy();
  }, 120_000);

  it("'auto' stays exact while exact holds the budget", async () => {
    const r = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'cpu', maxSide: 32, cpuMaxSide: 32, quality: 'auto', budgetMs: 1e9 });
    await frames(r, 7);
    expect(r.quality).toBe('exact');
    expect(r.qualityState.reason).toBe('keeps-up');
    r.destroy();
  }, 120_000);
});
