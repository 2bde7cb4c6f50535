import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../worker/errors.ts';
import { lipOpening } from '../../worker/landmarks/quality.ts';
import { closureFrames, phonemesToTrack, silenceFrames, visemeClasses, type TimedPhoneme } from '../../scripts/corpus/visemes.ts';

const DIM = 204;

/** pause, then phonemes of the given durations (seconds), then a pause; total `total` s. */
function utter(parts: [string, number][], lead = 0.5, total = 3): TimedPhoneme[] {
  const out: TimedPhoneme[] = [{ id: '', start: 0, end: lead }];
  let t = lead;
  for (const [id, d] of parts) {
    out.push({ id, start: t, end: t + d });
    t += d;
  }
  out.push({ id: '', start: t, end: total });
  return out;
}

const coord = (lm: Float32Array, f: number, p: number, c: number) => lm[f * DIM + p * 3 + c];

describe('corpus viseme mapping', () => {
  it('parses eSpeak names: stress and length are ignored, diphthongs split, a pause is rest', () => {
    expect(visemeClasses('ˈɑː')).toEqual(['open']);
    expect(visemeClasses('ˌaɪ')).toEqual(['open', 'front']);
    expect(visemeClasses('oʊ')).toEqual(['back-round', 'rounded']);
    expect(visemeClasses('tʃ')).toEqual(['postalveolar']);
    expect(visemeClasses('m')).toEqual(['bilabial']);
    expect(visemeClasses('')).toEqual(['rest']);
  });

  for (const c of ['m', 'b', 'p']) {
    it(`${c} between open vowels closes the lips (< 20% of the vowels' opening)`, () => {
      const ph = utter([['ˈɑː', 0.2], [c, 0.07], ['ɑː', 0.2]]);
      const frames = 75;
      const { landmarks } = phonemesToTrack(ph, frames);
      const open = lipOpening(landmarks, frames);
      const closures = closureFrames(ph, frames);
      expect(closures).toHaveLength(1);
      const peak = Math.max(...open);
      expect(peak).toBeGreaterThan(0.8);
      expect(open[closures[0]]).toBeLessThan(0.2 * peak);
      expect(open[closures[0]]).toBeGreaterThanOrEqual(-0.05);
    });
  }

  it('open vowels drop the jaw more than close vowels, and open the inner lips', () => {
    const frames = 75;
    const a = phonemesToTrack(utter([['ɑː', 0.4]]), frames).landmarks;
    const i = phonemesToTrack(utter([['iː', 0.4]]), frames).landmarks;
    const mid = 17; // 0.68 s: inside the vowel
    expect(coord(a, mid, 8, 1)).toBeLessThan(-1); // chin down by more than 1 cm
    expect(coord(a, mid, 8, 1)).toBeLessThan(coord(i, mid, 8, 1) - 0.5);
    expect(lipOpening(a, frames)[mid]).toBeGreaterThan(1);
    // spread lips for i: the right mouth corner moves outwards
    expect(coord(i, mid, 54, 0)).toBeGreaterThan(0.2);
  });

  it('rounded vowels protrude and narrow the lips; f and v tuck the lower lip with the mouth nearly shut', () => {
    const frames = 75;
    const u = phonemesToTrack(utter([['uː', 0.3]]), frames).landmarks;
    const f = phonemesToTrack(utter([['f', 0.15]]), frames).landmarks;
    expect(coord(u, 16, 51, 2)).toBeGreaterThan(0.4);
    expect(coord(u, 16, 54, 0)).toBeLessThan(-0.3);
    expect(coord(f, 14, 57, 2)).toBeLessThan(-0.2);
    expect(Math.abs(lipOpening(f, frames)[14])).toBeLessThan(0.15);
  });

  it('silence is exactly the rest pose (all offsets zero) away from speech', () => {
    const ph = utter([['h', 0.08], ['ə', 0.1], ['l', 0.07], ['oʊ', 0.25]], 0.8, 3);
    const frames = 75;
    const { landmarks } = phonemesToTrack(ph, frames);
    const quiet = silenceFrames(ph, frames);
    expect(quiet.length).toBeGreaterThan(20);
    expect(quiet).toContain(0);
    expect(quiet).not.toContain(25);
    let worst = 0;
    for (const t of quiet) for (let d = 0; d < DIM; d++) worst = Math.max(worst, Math.abs(landmarks[t * DIM + d]));
    expect(worst).toBeLessThan(1e-3);
  });

  it('co-articulation is smooth: fast speech changes no coordinate by more than 0.6 cm per frame', () => {
    // 14 phonemes per second, alternating extremes (open/closed/rounded/spread).
    const ids = ['m', 'ɑː', 'p', 'iː', 'w', 'uː', 'f', 'æ', 'b', 'oʊ', 'ʃ', 'ɪ', 'm', 'aɪ'];
    const ph = utter(ids.map((id): [string, number] => [id, 0.07]), 0.4, 2.4);
    const frames = 60;
    const { landmarks } = phonemesToTrack(ph, frames);
    let worst = 0;
    for (let t = 1; t < frames; t++) for (let d = 0; d < DIM; d++) worst = Math.max(worst, Math.abs(landmarks[t * DIM + d] - landmarks[(t - 1) * DIM + d]));
    expect(worst).toBeGreaterThan(0.05);
    expect(worst).toBeLessThan(0.6);
  });

  it('a weak consonant between open vowels takes their shape instead of closing the mouth', () => {
    const ph = utter([['ɑː', 0.2], ['t', 0.05], ['ɑː', 0.2]]);
    const frames = 75;
    const open = lipOpening(phonemesToTrack(ph, frames).landmarks, frames);
    const tFrame = Math.round((0.5 + 0.2 + 0.025) * 25);
    expect(open[tFrame]).toBeGreaterThan(0.5 * Math.max(...open));
  });

  it('rejects phonemes out of order, naming the phoneme', () => {
    const bad: TimedPhoneme[] = [{ id: 'a', start: 0.5, end: 0.6 }, { id: 'm', start: 0.2, end: 0.3 }];
    expect(() => phonemesToTrack(bad, 10)).toThrow(ConfigError);
    expect(() => phonemesToTrack(bad, 10)).toThrow(/phonemes\[1\]/);
    expect(() => phonemesToTrack([], -1)).toThrow(/track.frames/);
  });
});
