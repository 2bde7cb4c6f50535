import { describe, expect, it } from 'vitest';
import { closureFrames, phonemesToTrack, type TimedPhoneme } from '../../scripts/corpus/visemes.ts';
import { retimePhonemes, retimedTargets } from '../../scripts/corpus/retime.ts';

const DIM = 204;
const phonemes: TimedPhoneme[] = [
  { id: '', start: 0, end: 0.6 },
  { id: 'm', start: 0.6, end: 0.7 },
  { id: 'ɑː', start: 0.7, end: 0.9 },
  { id: 'p', start: 0.9, end: 1.0 },
  { id: 'ə', start: 1.0, end: 1.1 },
  { id: '', start: 1.1, end: 2.0 },
];
const frames = 50;

describe('corpus label retiming', () => {
  it('a zero shift rebuilds exactly the track and closures the corpus script writes', () => {
    const t = retimedTargets(phonemes, 0, frames, 2);
    expect(Array.from(t.landmarks)).toEqual(Array.from(phonemesToTrack(phonemes, frames).landmarks));
    expect(t.closureFrames).toEqual(closureFrames(phonemes, frames));
  });

  it('moving the labels one frame (40 ms) earlier moves the whole track one frame earlier', () => {
    const base = phonemesToTrack(phonemes, frames).landmarks;
    const t = retimedTargets(phonemes, -0.04, frames, 2);
    // Interior frames only: the pauses at both ends change length, not shape, and are at rest.
    for (let f = 5; f < frames - 5; f++) {
      for (let d = 0; d < DIM; d++) expect(t.landmarks[f * DIM + d]).toBeCloseTo(base[(f + 1) * DIM + d], 5);
    }
    expect(t.closureFrames).toEqual(closureFrames(phonemes, frames).map((f) => f - 1));
  });

  it('keeps the labels covering the audio and ordered, and refuses absurd shifts', () => {
    const late = retimePhonemes(phonemes, 0.15, 2);
    expect(late[0]).toEqual({ id: '', start: 0, end: 0.75 });
    expect(late[late.length - 1].end).toBe(2);
    const early = retimePhonemes([{ id: 'b', start: 0, end: 0.02 }, { id: '', start: 0.02, end: 1 }], -0.05, 1);
    expect(early[0].start).toBe(0);
    expect(early[early.length - 1].end).toBe(1);
    for (let i = 1; i < late.length; i++) expect(late[i].start).toBeGreaterThanOrEqual(late[i - 1].end - 1e-9);
    expect(() => retimePhonemes(phonemes, 0.5, 2)).toThrow(/retime.shift/);
    expect(() => retimePhonemes(phonemes, Number.NaN, 2)).toThrow(/retime.shift/);
  });
});
