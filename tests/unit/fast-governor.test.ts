import { describe, expect, it } from 'vitest';
import { QualityGovernor, type Quality } from '../../worker/engine/quality-governor.ts';

/** Runs n frames, exact taking exactMs(i) and fast a third of it; returns the qualities rendered. */
function drive(g: QualityGovernor, n: number, exactMs: (i: number) => number): Quality[] {
  const out: Quality[] = [];
  for (let i = 0; i < n; i++) {
    const q = g.next();
    out.push(q);
    g.record(q, q === 'exact' ? exactMs(i) : exactMs(i) / 3);
  }
  return out;
}

describe('QualityGovernor', () => {
  it('stays exact while exact holds the frame rate', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40 });
    expect(drive(g, 100, () => 30).every((q) => q === 'exact')).toBe(true);
    expect(g.quality).toBe('exact');
  });

  it('switches to fast after switchAfter slow frames in a row, not on one slow frame', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 3 });
    drive(g, 10, (i) => (i === 4 ? 200 : 30));
    expect(g.quality).toBe('exact');
    const qs = drive(g, 5, () => 100);
    expect(qs).toEqual(['exact', 'exact', 'exact', 'fast', 'fast']);
    expect(g.quality).toBe('fast');
  });

  it('probes exact now and then and returns to it once exact is well under budget again', () => {
    const g = new QualityGovernor('auto', { budgetMs: 40, switchAfter: 2, probeEvery: 10 });
    drive(g, 2, () => 100);
    expect(g.quality).toBe('fast');
    const busy = drive(g, 30, () => 100);
    expect(busy.filter((q) => q === 'exact').length).toBe(3); // one probe per 10 frames
    expect(g.quality).toBe('fast');
    // the machine is idle again: exact takes 20 ms; the smoothed estimate needs a few probes
    drive(g, 60, () => 20);
    expect(g.quality).toBe('exact');
  });

  it('fixed modes never switch', () => {
    const e = new QualityGovernor('exact', { budgetMs: 40 });
    expect(drive(e, 20, () => 500).every((q) => q === 'exact')).toBe(true);
    const f = new QualityGovernor('fast', { budgetMs: 40 });
    expect(drive(f, 20, () => 1).every((q) => q === 'fast')).toBe(true);
  });

  it('rejects bad settings by name', () => {
    expect(() => new QualityGovernor('turbo' as 'auto', { budgetMs: 40 })).toThrow(/quality: expected/);
    expect(() => new QualityGovernor('auto', { budgetMs: 0 })).toThrow(/budgetMs/);
    expect(() => new QualityGovernor('auto', { budgetMs: 40, probeEvery: 1 })).toThrow(/probeEvery/);
  });
});
