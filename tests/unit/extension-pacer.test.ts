import { describe, expect, it } from 'vitest';
import { Pacer, RateMeter, type Tick, type Timers } from '../../worker/engine/pacer.ts';

/** A manual clock and timer queue: time only moves when the test advances it. */
class FakeTime implements Timers {
  now = 1000;
  private next = 1;
  private queue = new Map<number, { at: number; cb: () => void }>();
  clock = { now: () => this.now };
  setTimeout(cb: () => void, ms: number): unknown {
    const id = this.next++;
    this.queue.set(id, { at: this.now + Math.max(0, ms), cb });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.queue.delete(h as number);
  }
  /** Runs due timers in order until `ms` have passed; `lateBy` delays each timer (a busy thread). */
  advance(ms: number, lateBy = 0): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 100000; guard++) {
      let first: [number, { at: number; cb: () => void }] | null = null;
      for (const e of this.queue) if (!first || e[1].at < first[1].at) first = e;
      if (!first || first[1].at + lateBy > end) break;
      this.queue.delete(first[0]);
      this.now = Math.max(this.now, first[1].at + lateBy);
      first[1].cb();
    }
    this.now = end;
  }
  get pending(): number {
    return this.queue.size;
  }
}

describe('Pacer', () => {
  it('ticks at the frame rate with evenly spaced, strictly increasing timestamps', () => {
    const t = new FakeTime();
    const ticks: Tick[] = [];
    const p = new Pacer(30, (x) => ticks.push(x), t.clock, t);
    p.start();
    t.advance(1000);
    expect(ticks.length).toBeGreaterThanOrEqual(30);
    expect(ticks.length).toBeLessThanOrEqual(31);
    for (let i = 1; i < ticks.length; i++) {
      const dt = ticks[i].timestampUs - ticks[i - 1].timestampUs;
      expect(dt).toBeGreaterThanOrEqual(33333);
      expect(dt).toBeLessThanOrEqual(33334);
    }
    expect(t.pending).toBe(1);
  });

  it('skips missed ticks instead of bursting when its timer fires late', () => {
    const t = new FakeTime();
    const ticks: Tick[] = [];
    const p = new Pacer(30, (x) => ticks.push(x), t.clock, t);
    p.start();
    t.advance(1000, 100); // every timer 100 ms late: about 10 ticks a second, never 30 at once
    expect(ticks.length).toBeLessThanOrEqual(11);
    expect(ticks.some((x) => x.skipped >= 2)).toBe(true);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i].timestampUs).toBeGreaterThan(ticks[i - 1].timestampUs);
  });

  it('continues timestamps monotonically across a frame-rate change', () => {
    const t = new FakeTime();
    const ticks: Tick[] = [];
    const p = new Pacer(30, (x) => ticks.push(x), t.clock, t);
    p.start();
    t.advance(500);
    const before = ticks.length;
    p.setFrameRate(10);
    t.advance(1000);
    const after = ticks.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(9);
    expect(after.length).toBeLessThanOrEqual(11);
    expect(after[0].timestampUs).toBeGreaterThan(ticks[before - 1].timestampUs);
    for (let i = 1; i < after.length; i++) expect(after[i].timestampUs - after[i - 1].timestampUs).toBe(100000);
  });

  it('stops ticking and leaves no timer behind after stop()', () => {
    const t = new FakeTime();
    let n = 0;
    const p = new Pacer(30, () => n++, t.clock, t);
    p.start();
    t.advance(100);
    p.stop();
    const at = n;
    t.advance(1000);
    expect(n).toBe(at);
    expect(t.pending).toBe(0);
  });

  it('rejects frame rates outside [1, 120] naming the field', () => {
    const t = new FakeTime();
    expect(() => new Pacer(0, () => undefined, t.clock, t)).toThrow(/frameRate/);
    expect(() => new Pacer(Number.NaN, () => undefined, t.clock, t)).toThrow(/frameRate/);
  });
});

describe('RateMeter', () => {
  it('reports the event rate over its window and decays to zero when events stop', () => {
    const t = new FakeTime();
    const m = new RateMeter(t.clock, 2000);
    for (let i = 0; i < 40; i++) {
      m.mark();
      t.now += 100;
    }
    expect(m.rate()).toBeGreaterThan(9);
    expect(m.rate()).toBeLessThan(10.5);
    t.now += 5000;
    expect(m.rate()).toBe(0);
  });
});
