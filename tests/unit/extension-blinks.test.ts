import { describe, expect, it } from 'vitest';
import { BlinkSchedule, DEFAULT_BLINKS, blinkEye, blinkShape } from '../../worker/engine/blinks.ts';

/** Samples `s` every `stepMs` over `ms`, returning [t, value] pairs. */
function sample(s: BlinkSchedule, ms: number, stepMs = 5, t0 = 1000): [number, number][] {
  const out: [number, number][] = [];
  for (let t = t0; t <= t0 + ms; t += stepMs) out.push([t, s.valueAt(t)]);
  return out;
}

/** Start times of blinks: the first sample of each run below the resting value. */
function blinkStarts(v: [number, number][], rest: number): number[] {
  const starts: number[] = [];
  let inBlink = false;
  for (const [t, x] of v) {
    const below = x < rest - 1e-6;
    if (below && !inBlink) starts.push(t);
    inBlink = below;
  }
  return starts;
}

describe('idle blink schedule', () => {
  it('blinks at intervals between 2 and 6 s (start to start, plus the blink itself)', () => {
    const s = new BlinkSchedule(42);
    const v = sample(s, 120_000);
    const starts = blinkStarts(v, DEFAULT_BLINKS.rest);
    // Two minutes at one blink per 2.15..6.15 s.
    expect(starts.length).toBeGreaterThanOrEqual(Math.floor(120_000 / 6150));
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(120_000 / 2150) + 1);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(DEFAULT_BLINKS.minIntervalMs + DEFAULT_BLINKS.durationMs - 10);
      expect(g).toBeLessThanOrEqual(DEFAULT_BLINKS.maxIntervalMs + DEFAULT_BLINKS.durationMs + 10);
    }
    // Pseudo-random, not a metronome.
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(1000);
  });

  it('each blink dips toward closed for about 150 ms and returns exactly to the resting 0.25', () => {
    const s = new BlinkSchedule(7);
    const v = sample(s, 30_000, 1);
    const starts = blinkStarts(v, 0.25);
    expect(starts.length).toBeGreaterThan(3);
    for (const t0 of starts) {
      const during = v.filter(([t]) => t >= t0 && t < t0 + 200);
      const low = Math.min(...during.map(([, x]) => x));
      expect(low).toBeLessThan(0.05);
      expect(low).toBeGreaterThanOrEqual(DEFAULT_BLINKS.closed - 1e-9);
      const closedFor = during.filter(([, x]) => x < 0.25 - 1e-6).length;
      expect(closedFor).toBeGreaterThan(130);
      expect(closedFor).toBeLessThanOrEqual(150);
      const after = v.find(([t]) => t === t0 + 160);
      expect(after?.[1]).toBe(0.25);
    }
    expect(v.every(([, x]) => x >= DEFAULT_BLINKS.closed - 1e-9 && x <= 0.25)).toBe(true);
  });

  it('closes faster than it reopens', () => {
    expect(blinkShape(0)).toBe(0);
    expect(blinkShape(1)).toBe(0);
    expect(blinkShape(0.4)).toBeCloseTo(1, 9);
    expect(blinkShape(0.2)).toBeCloseTo(0.5, 9);
    expect(blinkShape(0.7)).toBeCloseTo(0.5, 9);
  });

  it('is reproducible from its seed and differs between seeds', () => {
    const a = sample(new BlinkSchedule(1), 20_000, 10);
    const b = sample(new BlinkSchedule(1), 20_000, 10);
    const c = sample(new BlinkSchedule(2), 20_000, 10);
    expect(a).toEqual(b);
    expect(blinkStarts(a, 0.25)).not.toEqual(blinkStarts(c, 0.25));
  });

  it('after a long clock jump (a suspended tab) resumes blinking within the normal interval', () => {
    const s = new BlinkSchedule(3);
    s.valueAt(0);
    const v = sample(s, 10_000, 5, 3_600_000);
    const starts = blinkStarts(v, 0.25);
    expect(starts.length).toBeGreaterThan(0);
    expect(starts[0] - 3_600_000).toBeLessThanOrEqual(DEFAULT_BLINKS.maxIntervalMs + DEFAULT_BLINKS.durationMs);
  });

  it('off means no override: the renderer keeps the avatar own eye value (0.25 when absent)', () => {
    const s = new BlinkSchedule(9);
    for (let t = 0; t < 20_000; t += 7) expect(blinkEye(s, false, t)).toBeNull();
    const on = new BlinkSchedule(9);
    const vals = new Set<number>();
    for (let t = 0; t < 20_000; t += 7) vals.add(blinkEye(on, true, t) ?? -1);
    expect(vals.has(0.25)).toBe(true);
    expect(vals.size).toBeGreaterThan(5);
  });

  it('rejects bad options and times naming the field', () => {
    expect(() => new BlinkSchedule(1.5)).toThrow(/blinks\.seed/);
    expect(() => new BlinkSchedule(1, { maxIntervalMs: 10 })).toThrow(/blinks\.maxIntervalMs/);
    expect(() => new BlinkSchedule(1, { closed: 0.5 })).toThrow(/blinks\.closed/);
    expect(() => new BlinkSchedule(1).valueAt(Number.NaN)).toThrow(/blinks\.time/);
  });
});
