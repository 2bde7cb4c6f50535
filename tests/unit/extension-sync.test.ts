import { describe, expect, it } from 'vitest';
import { SYNC, SyncMeter } from '../../worker/engine/sync.ts';

describe('SyncMeter (lip-sync delay from measured latency)', () => {
  it('keeps the initial delay until a measurement arrives', () => {
    const m = new SyncMeter();
    expect(m.lagMs()).toBeNull();
    expect(m.nextDelayMs()).toBeNull();
    expect(m.appliedMs).toBe(SYNC.initialDelayMs);
  });

  it('sets the delay to the median measured lag plus half the hold time and the video tail', () => {
    const m = new SyncMeter();
    // Frames every 200 ms, each showing audio from 400 ms before it was written; one outlier.
    for (let k = 0; k < 15; k++) m.push(k * 0.2 - (k === 7 ? 0.9 : 0.4), k * 0.2);
    expect(m.lagMs()).toBeCloseTo(400, 6);
    expect(m.holdMs()).toBeCloseTo(200, 6);
    expect(m.nextDelayMs()).toBeCloseTo(400 + 100 + SYNC.videoAfterWriteMs, 6);
  });

  it('ignores changes below the step and impossible lags', () => {
    const m = new SyncMeter();
    for (let k = 0; k < 10; k++) m.push(k * 0.2 - 0.3, k * 0.2);
    const first = m.nextDelayMs();
    expect(first).not.toBeNull();
    for (let k = 10; k < 20; k++) m.push(k * 0.2 - 0.305, k * 0.2);
    expect(m.nextDelayMs()).toBeNull();
    m.push(10, 5); // content from the future: not a measurement
    m.push(0, 9); // 9 s old: a restarted stream, not a lag
    expect(m.lagMs()).toBeLessThan(400);
  });

  it('never exceeds the maximum delay', () => {
    const m = new SyncMeter();
    for (let k = 0; k < 10; k++) m.push(k * 0.2 - 1.9, k * 0.2);
    expect(m.nextDelayMs()).toBe(SYNC.maxDelayMs);
  });
});
