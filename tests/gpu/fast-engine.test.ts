/** The engine's WebGPU path picks fast mode by itself when exact cannot hold the frame budget. */
import { describe, expect, it } from 'vitest';
import { makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import { AvatarRenderer } from '../../worker/engine/avatar-renderer.ts';
import type { RenderInput } from '../../worker/engine/interfaces.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

const input = (i: number): RenderInput => ({ timestampUs: i * 40_000, landmarks: null, poseIndex: i, eye: null, audioLevel: 0 });

async function frame(r: AvatarRenderer, i: number): Promise<Uint8ClampedArray> {
  const f = await r.render(input(i));
  if (f.kind !== 'rgba') throw new Error('expected rgba from the WebGPU path');
  return f.data;
}

function psnr(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let se = 0;
  for (let k = 0; k < a.length; k++) if (k % 4 !== 3) se += ((a[k] - b[k]) / 255) ** 2;
  return -10 * Math.log10(se / ((a.length / 4) * 3) || 1e-12);
}

describe('AvatarRenderer quality on the WebGPU path', () => {
  // (Staying exact within budget is the governor's logic, tested in tests/unit/fast-governor.test.ts
  // and on the CPU path in tests/unit/fast-engine.test.ts; a second WebGPU build costs CI minutes.)
  it("'auto' tries fast once exact misses the budget, keeps it when it measures faster (EngineStatus.quality says so), and its frames stay close to exact ones", async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    const gpu = await nodeGpu();
    const choice = { backend: 'auto' as const, maxSide: 32, cpuMaxSide: 32 };
    // Injected timings (timingForTests): on this route fast mode may be faster or not, and the
    // governor follows the measurement either way (tests/unit/fast-governor.test.ts).
    let fastMs = 30;
    const auto = await AvatarRenderer.create(makeDemoAvatar(), true, { ...choice, quality: 'auto', budgetMs: 40, governor: { switchAfter: 5, warmupFrames: 1, trialFrames: 2, probeEvery: 4 } }, { gpu, compile: 'sync' });
    auto.timingForTests = (q) => (q === 'exact' ? 100 : fastMs);
    const exact = await AvatarRenderer.create(makeDemoAvatar(), true, { ...choice, quality: 'exact' }, { gpu, compile: 'sync' });
    try {
      expect(auto.info.backend).toBe('webgpu');
      expect(auto.quality).toBe('exact');
      await auto.gpuFastReady;
      expect(auto.gpuFastProblem).toBeNull();
      let i = 0;
      for (; i < 12 && auto.quality !== 'fast'; i++) expect(psnr(await frame(auto, i), await frame(exact, i))).toBeGreaterThan(60);
      expect(auto.quality).toBe('fast');
      expect(i).toBeLessThanOrEqual(6); // switchAfter (5) frames over budget
      for (let k = 0; k < 3; k++, i++) {
        const a = await frame(auto, i);
        expect(auto.quality).toBe('fast');
        expect(psnr(a, await frame(exact, i)), `frame ${i}`).toBeGreaterThan(30); // 32x32 is far below fast mode's design size
      }
      expect(auto.qualityState).toMatchObject({ quality: 'fast', reason: 'fast-faster', exactMs: 100, fastMs: 30 });
      expect(exact.quality).toBe('exact');
      // A device lost while fast mode runs (the exact renderer idle): fast frames resume on a
      // new device, close to exact ones as before.
      expect(auto.loseDevice()).toBe(true);
      for (let k = 0; k < 3; k++, i++) {
        const a = await frame(auto, i);
        expect(psnr(a, await frame(exact, i)), `frame ${i} after the loss`).toBeGreaterThan(30);
      }
      expect(auto.recoveries).toBeGreaterThanOrEqual(1);
      // Fast mode gets slower than exact (as in headless Chromium on SwiftShader): the next exact
      // probe (one frame in 4) sends the renderer back to exact, whose frames match exact ones.
      fastMs = 400;
      for (let k = 0; k < 8 && auto.qualityState.reason !== 'fast-slower'; k++, i++) await frame(auto, i);
      expect(auto.qualityState).toMatchObject({ quality: 'exact', reason: 'fast-slower' });
      for (let k = 0; k < 2; k++, i++) expect(psnr(await frame(auto, i), await frame(exact, i)), `frame ${i} back in exact`).toBeGreaterThan(60);
    } finally {
      auto.destroy();
      exact.destroy();
    }
  });
});
