import { describe, expect, it } from 'vitest';
import { demoLandmarkTrack, makeDemoAvatar } from '../../worker/avatar/synthetic.ts';
import { AvatarRenderer, ladderFactors } from '../../worker/engine/avatar-renderer.ts';
import { ResolutionLadder } from '../../worker/engine/resolution-ladder.ts';

/** Records n renders at the ladder's current rung, each taking msAt(rung) ms; returns the rungs used. */
function drive(l: ResolutionLadder, n: number, msAt: (rung: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(l.rung);
    l.record(msAt(l.rung));
  }
  return out;
}

describe('ResolutionLadder', () => {
  it('keeps the largest side while renders hold the budget, and one slow render does not step', () => {
    const l = new ResolutionLadder([4096, 1024], { budgetMs: 100, switchAfter: 3 });
    drive(l, 20, () => 90);
    l.record(500);
    drive(l, 5, () => 90);
    expect(l.rung).toBe(0);
  });

  it('steps down after switchAfter slow renders in a row, and no further than the last rung', () => {
    const l = new ResolutionLadder([4096, 1024, 256], { budgetMs: 100, switchAfter: 3 });
    expect(drive(l, 4, () => 400)).toEqual([0, 0, 0, 1]);
    drive(l, 20, () => 400);
    expect(l.rung).toBe(2);
  });

  it('steps back up only when the larger side is predicted to fit well inside the budget', () => {
    // 4x fewer pixels: 30 ms at the small side predicts 120 ms at the large one: over a 100 ms budget, stays.
    const l = new ResolutionLadder([4096, 1024], { budgetMs: 100, switchAfter: 3, returnBelow: 0.6, settle: 5 });
    drive(l, 3, () => 400);
    expect(l.rung).toBe(1);
    drive(l, 30, () => 30);
    expect(l.rung).toBe(1);
    // The machine got idle: 10 ms predicts 40 ms, under 60.
    const rungs = drive(l, 30, (r) => (r === 1 ? 10 : 40));
    expect(l.rung).toBe(0);
    // ... and it stays there (no flapping): 40 ms holds the 100 ms budget.
    expect(rungs.slice(-10).every((r) => r === 0)).toBe(true);
  });

  it('rejects bad rungs and options with a clear error', () => {
    expect(() => new ResolutionLadder([], { budgetMs: 10 })).toThrow(/at least one rung/);
    expect(() => new ResolutionLadder([100, 200], { budgetMs: 10 })).toThrow(/strictly decreasing/);
    expect(() => new ResolutionLadder([100], { budgetMs: 0 })).toThrow(/budgetMs/);
    expect(() => new ResolutionLadder([100], { budgetMs: 10, switchAfter: 0 })).toThrow(/switchAfter/);
  });
});

describe('ladderFactors', () => {
  it('halves the side while it divides the camera and stays at least minSide', () => {
    expect(ladderFactors(256, 256, 4, 32)).toEqual([4, 8]);
    expect(ladderFactors(512, 512, 8, 32)).toEqual([8, 16]);
    expect(ladderFactors(256, 256, 4, 64)).toEqual([4]);
    expect(ladderFactors(256, 256, 4, undefined)).toEqual([4]);
    expect(ladderFactors(480, 360, 6, 30)).toEqual([6, 12]);
    expect(() => ladderFactors(256, 256, 4, 8)).toThrow(/cpuMinSide/);
  });
});

describe('the CPU fallback under a render budget it cannot hold', () => {
  const window = 5;
  const track = demoLandmarkTrack(40);
  const input = (i: number) => ({ timestampUs: i * 40_000, landmarks: track.slice(i * 204, (i + window) * 204), poseIndex: 0, eye: 0.5, audioLevel: 0.1 });

  it('renders at the smaller side once fast mode is over budget, and its mouth still follows the landmarks', async () => {
    // A budget no render can hold (1 us): the governor goes fast (after a trial), then the ladder steps 64 -> 32.
    const r = await AvatarRenderer.create(makeDemoAvatar(), true, { backend: 'auto', maxSide: 256, cpuMaxSide: 64, cpuMinSide: 32, quality: 'auto', budgetMs: 0.001, cpuBudgetMs: 0.001 });
    expect(r.info.backend).toBe('cpu-reference');
    // The governor keeps fast mode only where it measures faster (fast-governor.test.ts): here
    // exact frames are reported 10x their time so that this test is about the ladder alone.
    r.timingForTests = (q, ms) => (q === 'exact' ? 10 * ms : ms);
    const sides: number[] = [];
    for (let i = 0; i < 14; i++) {
      const f = await r.render(input(i));
      if (f.kind !== 'rgba') throw new Error('expected rgba');
      expect(f.data.length).toBe(f.width * f.height * 4);
      sides.push(f.width);
    }
    expect(sides.slice(0, 5).every((s) => s === 64)).toBe(true);
    expect(sides.slice(-4).every((s) => s === 32)).toBe(true);
    expect(r.quality).toBe('fast');
    expect(r.cpuSide).toEqual([32, 32]);
    // At the smaller side the mouth still follows the landmarks: the track's most open and most
    // closed frames (held for a whole window, twice: the lip smoothing settles) differ.
    const opening = (t: number) => track[t * 204 + 66 * 3 + 1] - track[t * 204 + 62 * 3 + 1];
    let open = 0;
    let closed = 0;
    for (let t = 0; t < 40; t++) {
      if (Math.abs(opening(t)) > Math.abs(opening(open))) open = t;
      if (Math.abs(opening(t)) < Math.abs(opening(closed))) closed = t;
    }
    const held = async (t: number) => {
      const lm = new Float32Array(window * 204);
      for (let j = 0; j < window; j++) lm.set(track.subarray(t * 204, (t + 1) * 204), j * 204);
      await r.render({ ...input(0), landmarks: lm });
      const f = await r.render({ ...input(0), landmarks: lm });
      if (f.kind !== 'rgba') throw new Error('expected rgba');
      expect(f.width).toBe(32);
      return f.data;
    };
    const a = await held(closed);
    const b = await held(open);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeGreaterThan(20);
    r.destroy();
  });

  it('keeps the side fixed when the user chose the CPU renderer or exact quality', async () => {
    for (const choice of [
      { backend: 'cpu' as const, quality: 'auto' as const },
      { backend: 'auto' as const, quality: 'exact' as const },
    ]) {
      const r = await AvatarRenderer.create(makeDemoAvatar(), true, { ...choice, maxSide: 256, cpuMaxSide: 64, cpuMinSide: 32, budgetMs: 0.001, cpuBudgetMs: 0.001 });
      for (let i = 0; i < 9; i++) {
        const f = await r.render(input(i));
        expect(f.kind === 'rgba' ? f.width : -1).toBe(64);
      }
      r.destroy();
    }
  });
});
