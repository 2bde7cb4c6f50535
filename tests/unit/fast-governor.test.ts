import { describe, expect, it } from 'vitest';
import { QualityGovernor, type Quality } from '../../worker/engine/quality-governor.ts';

/** Runs n frames, each quality taking the injected time; returns the qualities rendered. */
function drive(g: QualityGovernor, n: number, exactMs: (i: number) => number, fastMs: (i: number) => number = (i) => exactMs(i) / 3): Quality[] {
  const out: Quality[] = [];
  for (let i = 0; i < n; i++) {
    const q = g.next();
    out.push(q);
    g.record(q, q === 'exact' ? exactMs(i) : fastMs(i));
  }
  return out;
}

const count = (qs: Quality[], q: Quality): number => qs.filter((x) => x === q).length;

describe('QualityGovernor', () => {
  it('stays exact while exact holds the frame rate, and says so', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40 });
    expect(drive(g, 100, () => 30).every((q) => q === 'exact')).toBe(true);
    expect(g.quality).toBe('exact');
    expect(g.view).toMatchObject({ quality: 'exact', reason: 'keeps-up', fastMs: null, budgetMs: 40 });
    expect(g.view.exactMs).toBeCloseTo(30, 6);
  });

  it('tries fast after switchAfter slow frames in a row (not on one slow frame) and keeps it when it measures faster', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 3, warmupFrames: 1, trialFrames: 4 });
    drive(g, 10, (i) => (i === 4 ? 200 : 30));
    expect(g.quality).toBe('exact');
    const qs = drive(g, 8, () => 100, () => 50);
    expect(qs).toEqual(['exact', 'exact', 'exact', 'fast', 'fast', 'fast', 'fast', 'fast']);
    expect(g.view).toMatchObject({ quality: 'fast', reason: 'fast-faster', fastMs: 50 });
  });

  it('goes back to exact when the trial measures fast mode slower, and stays there', () => {
    // What headless Chromium on SwiftShader measured for the 64 px built-in: exact ~120 ms, fast 200-500 ms.
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 5, warmupFrames: 1, trialFrames: 6, retryAfter: 250, maxRetryAfter: 4000 });
    const first = drive(g, 12, () => 120, () => 300);
    expect(first.slice(0, 5)).toEqual(Array(5).fill('exact'));
    expect(first.slice(5)).toEqual(Array(7).fill('fast')); // warm-up + 6 timed
    expect(g.view).toMatchObject({ quality: 'exact', reason: 'fast-slower', fastMs: 300 });
    expect(g.view.exactMs).toBeCloseTo(120, 6);
    // Bounded re-probes: 250 exact frames before the next trial, then 500, 1000, ...
    const more = drive(g, 250 + 7 + 500 + 7 + 100, () => 120, () => 300);
    expect(more.slice(0, 250).every((q) => q === 'exact')).toBe(true);
    expect(more.slice(250, 257)).toEqual(Array(7).fill('fast'));
    expect(more.slice(257, 757).every((q) => q === 'exact')).toBe(true);
    expect(more.slice(757, 764)).toEqual(Array(7).fill('fast'));
    expect(more.slice(764).every((q) => q === 'exact')).toBe(true);
    expect(g.quality).toBe('exact');
    // Over a long run the trials cost a bounded share: the wait caps at maxRetryAfter.
    const long = drive(g, 40_000, () => 120, () => 300);
    expect(count(long, 'fast') / long.length).toBeLessThan(0.003);
  });

  it('does not keep fast mode that is only marginally faster (hysteresis), and does not flap once fast', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 2, warmupFrames: 0, trialFrames: 3, keepFastBelow: 0.9, leaveFastAbove: 1, probeEvery: 10 });
    drive(g, 5, () => 100, () => 95);
    expect(g.view.reason).toBe('fast-slower');
    const h = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 2, warmupFrames: 0, trialFrames: 3, keepFastBelow: 0.9, leaveFastAbove: 1, probeEvery: 10 });
    drive(h, 5, () => 100, () => 80);
    expect(h.view.reason).toBe('fast-faster');
    // Fast mode drifts up to 95% of exact: between the two thresholds, so it stays.
    drive(h, 100, () => 100, () => 95);
    expect(h.quality).toBe('fast');
    // ... and past exact's time it leaves at the next probe.
    const qs = drive(h, 30, () => 100, () => 130);
    expect(h.view).toMatchObject({ quality: 'exact', reason: 'fast-slower' });
    expect(count(qs, 'fast')).toBeLessThanOrEqual(10);
  });

  it('probes exact now and then while fast and returns to it once exact is well under budget again', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 2, probeEvery: 10, warmupFrames: 0, trialFrames: 2 });
    drive(g, 4, () => 100);
    expect(g.quality).toBe('fast');
    const busy = drive(g, 30, () => 100);
    expect(count(busy, 'exact')).toBe(3); // one probe per 10 frames
    expect(g.quality).toBe('fast');
    // the machine is idle again: exact takes 20 ms; the smoothed estimate needs a few probes
    drive(g, 60, () => 20);
    expect(g.view).toMatchObject({ quality: 'exact', reason: 'keeps-up' });
  });

  it('times only fast frames in a trial (the fast renderer may still be building) and not its warm-up frame', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 1, warmupFrames: 1, trialFrames: 2 });
    g.record('exact', 100);
    expect(g.next()).toBe('fast');
    for (let i = 0; i < 5; i++) g.record('exact', 100); // asked for fast, got exact: no trial progress
    expect(g.view.reason).toBe('trying');
    g.record('fast', 1000); // the first fast frame marches in full: not timed
    g.record('fast', 40);
    expect(g.view.reason).toBe('trying');
    g.record('fast', 60);
    expect(g.view).toMatchObject({ quality: 'fast', reason: 'fast-faster', fastMs: 50 });
  });

  it('restart() forgets exact times taken while the fast renderer was being built, and a trial under way', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 2, warmupFrames: 0, trialFrames: 2 });
    // The build slows exact frames to 200 ms; a trial starts, but no fast frame can run yet.
    drive(g, 3, () => 200);
    expect(g.view.reason).toBe('trying');
    g.restart();
    expect(g.view).toMatchObject({ quality: 'exact', reason: 'keeps-up', exactMs: null });
    // Without the compile exact takes 60 ms and fast 100 ms: the new trial compares those.
    drive(g, 10, () => 60, () => 100);
    expect(g.view).toMatchObject({ quality: 'exact', reason: 'fast-slower', exactMs: 60, fastMs: 100 });
    // Exact gets slower afterwards (waiting for the next trial): the view keeps the pair the decision compared.
    drive(g, 20, () => 150);
    expect(g.view).toMatchObject({ quality: 'exact', reason: 'fast-slower', exactMs: 60, fastMs: 100 });
  });

  it('stays exact for good once fast mode is unavailable', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 1 });
    g.disableFast();
    expect(drive(g, 50, () => 100).every((q) => q === 'exact')).toBe(true);
    expect(g.view.reason).toBe('unavailable');
  });

  it('fixed modes never switch, and report their measured time', () => {
    const e = new QualityGovernor('exact', { budgetMs: 40 });
    expect(drive(e, 20, () => 500).every((q) => q === 'exact')).toBe(true);
    expect(e.view).toMatchObject({ mode: 'exact', reason: 'set', exactMs: 500 });
    const f = new QualityGovernor('fast', { budgetMs: 40 });
    expect(drive(f, 20, () => 1, () => 900).every((q) => q === 'fast')).toBe(true);
    expect(f.view).toMatchObject({ mode: 'fast', quality: 'fast', reason: 'set', fastMs: 900 });
  });

  it('rejects bad settings by name', () => {
    expect(() => new QualityGovernor('turbo' as 'auto', { budgetMs: 40 })).toThrow(/quality: expected/);
    expect(() => new QualityGovernor('auto', { budgetMs: 0 })).toThrow(/budgetMs/);
    expect(() => new QualityGovernor('auto', { budgetMs: 40, probeEvery: 1 })).toThrow(/probeEvery/);
    expect(() => new QualityGovernor('auto', { budgetMs: 40, trialFrames: 0 })).toThrow(/trialFrames/);
    expect(() => new QualityGovernor('auto', { budgetMs: 40, keepFastBelow: 1.5 })).toThrow(/keepFastBelow/);
    expect(() => new QualityGovernor('auto', { budgetMs: 40, keepFastBelow: 0.9, leaveFastAbove: 0.8 })).toThrow(/leaveFastAbove/);
    expect(() => new QualityGovernor('auto', { budgetMs: 40, retryAfter: 100, maxRetryAfter: 50 })).toThrow(/maxRetryAfter/);
  });
});
