/**
 * The landmark map (worker/model/landmark-map.ts): a person's track moved number by number into
 * another avatar's landmark space (what training from a prior does), back again, folded into a
 * person-specific generator, and stored in the .r2t as the person's own statistics. Malformed
 * statistics are refused naming the value.
 */
import { describe, expect, it } from 'vitest';
import { readAvatar } from '../../worker/avatar/reader.ts';
import type { Avatar, Tensor } from '../../worker/avatar/types.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { createGenerator, forwardGenerator, LANDMARK_DIM, melFramesFor } from '../../worker/landmarks/model.ts';
import { MEL } from '../../worker/audio/mel.ts';
import { avatarLandmarkMap, checkLandmarkMap, landmarkMap, LANDMARK_SOURCE_MEAN, LANDMARK_SOURCE_STD, mapGenerator, mapLandmarks, unmapLandmarks, type LandmarkMap } from '../../worker/model/landmark-map.ts';
import { landmarkStatistics } from '../../worker/model/landmarks.ts';
import { mulberry32 } from '../../worker/util/random.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';

const N = LANDMARK_DIM;
const rand = mulberry32(7);

/** A track of `frames` frames: per number its own mean and spread, like a person's idexp landmarks. */
function track(frames: number, center: number, spread: number): Float32Array {
  const mean = Float32Array.from({ length: N }, () => center + (rand() - 0.5));
  const scale = Float32Array.from({ length: N }, () => spread * (0.2 + rand()));
  const t = new Float32Array(frames * N);
  for (let f = 0; f < frames; f++) for (let d = 0; d < N; d++) t[f * N + d] = mean[d] + scale[d] * (rand() - 0.5);
  return t;
}

const person = track(60, 0.3, 0.4);
const prior = track(80, -0.1, 0.04);
const personStats = landmarkStatistics(person, 60, N);
const priorStats = landmarkStatistics(prior, 80, N);

describe('mapping a person\u2019s landmarks into another avatar\u2019s space', () => {
  it('gives the track the target statistics, keeps each frame\u2019s standing within it, and maps back', () => {
    const map = landmarkMap(personStats, priorStats);
    const mapped = mapLandmarks(person, map);
    const s = landmarkStatistics(mapped, 60, N);
    for (let d = 0; d < N; d++) {
      expect(s.mean[d]).toBeCloseTo(priorStats.mean[d], 5);
      expect(s.std[d] / priorStats.std[d]).toBeCloseTo(1, 4);
    }
    // frame 5's z-score of number 150 (a mouth point) is the same on both sides
    const z = (v: number, st: typeof s, d: number) => (v - st.mean[d]) / st.std[d];
    expect(z(mapped[5 * N + 150], priorStats, 150)).toBeCloseTo(z(person[5 * N + 150], personStats, 150), 3);
    const back = unmapLandmarks(mapped, map);
    let worst = 0;
    for (let i = 0; i < person.length; i++) worst = Math.max(worst, Math.abs(back[i] - person[i]));
    expect(worst).toBeLessThan(1e-5);
  });

  it('pins a number that never moved in the person\u2019s track to the target\u2019s mean', () => {
    const still = person.slice();
    for (let f = 0; f < 60; f++) still[f * N + 10] = 0.25;
    const stats = landmarkStatistics(still, 60, N);
    expect(stats.std[10]).toBe(0);
    const map = landmarkMap(stats, priorStats);
    expect(map.from.std[10]).toBeCloseTo(1e-6, 12);
    const moved = Float32Array.from(still.subarray(0, N));
    moved[10] = 0.9;
    expect(mapLandmarks(moved, map)[10]).toBeCloseTo(priorStats.mean[10], 6);
    expect(unmapLandmarks(mapLandmarks(moved, map), map)[10]).toBeCloseTo(0.25, 6);
  });

  it('folds into a generator trained on the person: its output is the person\u2019s prediction, mapped', () => {
    const g = createGenerator({ channels: 8, lookAhead: 2 }, 3);
    g.outMean = Float32Array.from(personStats.mean);
    g.outScale = Float32Array.from(personStats.std);
    const frames = 6;
    const nMel = melFramesFor(g, frames);
    const mel = Float32Array.from({ length: nMel * MEL.bins }, () => rand() * 4 - 2);
    const map = landmarkMap(personStats, priorStats);
    const own = forwardGenerator(g, mel, nMel);
    const folded = forwardGenerator(mapGenerator(g, map), mel, nMel);
    expect(folded.frames).toBe(own.frames);
    const want = mapLandmarks(own.landmarks, map);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(folded.landmarks[i] - want[i]));
    expect(worst).toBeLessThan(1e-5);
    // the original is left as it was
    expect(Array.from(g.outMean)).toEqual(Array.from(personStats.mean));
  });

  it('refuses malformed statistics, naming the value', () => {
    const ok = landmarkMap(personStats, priorStats);
    const bad = (patch: (m: LandmarkMap) => void) => {
      const m: LandmarkMap = { from: { mean: ok.from.mean.slice(), std: ok.from.std.slice() }, to: { mean: ok.to.mean.slice(), std: ok.to.std.slice() } };
      patch(m);
      return () => checkLandmarkMap(m);
    };
    expect(bad((m) => (m.from.std[3] = 0))).toThrow('landmarkMap.from.std[3]: expected a finite number > 0, got 0');
    expect(bad((m) => (m.to.std[7] = -0.5))).toThrow('landmarkMap.to.std[7]: expected a finite number > 0, got -0.5');
    expect(bad((m) => (m.to.mean[2] = NaN))).toThrow('landmarkMap.to.mean[2]: expected a finite number, got NaN');
    expect(bad((m) => (m.to.mean = new Float32Array(12)))).toThrow(`landmarkMap.to: expected mean and std of ${N} values, got 12 and ${N}`);
    expect(bad((m) => ((m.from as unknown as { std: number[] }).std = [1]))).toThrow('landmarkMap.from: expected { mean: Float32Array, std: Float32Array }');
    expect(() => landmarkMap(personStats, { mean: priorStats.mean, std: new Float32Array(N) }, 'the prior')).toThrow('the prior.to.std[0]: expected a finite number > 0, got 0');
    expect(() => mapLandmarks(new Float32Array(N + 1), ok)).toThrow(`landmarks: expected a multiple of ${N} float32 values, got ${N + 1}`);
  });
});

describe('the map in the .r2t', () => {
  const withSource = (mean: Float32Array, std: Float32Array, base: Avatar = tinyAvatar()): Avatar => {
    const tensors = new Map(base.tensors);
    const t = (name: string, data: Float32Array): Tensor => ({ name, dtype: 'float32', shape: [data.length], data });
    tensors.set(LANDMARK_SOURCE_MEAN, t(LANDMARK_SOURCE_MEAN, mean));
    tensors.set(LANDMARK_SOURCE_STD, t(LANDMARK_SOURCE_STD, std));
    return { ...base, tensors };
  };

  it('round-trips the person\u2019s statistics; an avatar trained on its own landmarks has no map', async () => {
    const back = await readAvatar(writeAvatar(withSource(personStats.mean, Float32Array.from(personStats.std, (v) => Math.max(v, 1e-6)))));
    const map = avatarLandmarkMap(back)!;
    expect(Array.from(map.from.mean)).toEqual(Array.from(personStats.mean));
    expect(Array.from(map.to.mean)).toEqual(Array.from(back.landmarkStats!.mean));
    expect(avatarLandmarkMap(await readAvatar(writeAvatar(tinyAvatar())))).toBeNull();
  });

  it('refuses source statistics that are malformed, alone, or without statistics to map to', async () => {
    const std = Float32Array.from(personStats.std);
    expect(() => writeAvatar(withSource(personStats.mean, Float32Array.from(std, (v, i) => (i === 4 ? 0 : v))))).toThrow('tensors/landmark_source_std: element 4 must be > 0, got 0');
    expect(() => writeAvatar(withSource(personStats.mean.subarray(0, 60), std))).toThrow(/tensors\/landmark_source_mean: .*\[204\]/);
    expect(() => writeAvatar(withSource(Float32Array.from(personStats.mean, (v, i) => (i === 9 ? Infinity : v)), std))).toThrow('tensors/landmark_source_mean: element 9 is not finite');
    const alone = withSource(personStats.mean, std);
    alone.tensors.delete(LANDMARK_SOURCE_STD);
    expect(() => writeAvatar(alone)).toThrow('tensors/landmark_source_mean: present without landmark_source_std (they come together)');
    expect(() => writeAvatar(withSource(personStats.mean, std, tinyAvatar({ stats: false })))).toThrow(
      'tensors/landmark_source_mean: present but header.landmarkStats is null (a landmark map needs the statistics it maps to)',
    );
    // read side: an avatar object whose tensors were not written by the writer
    const half = withSource(personStats.mean, std);
    half.tensors.delete(LANDMARK_SOURCE_MEAN);
    expect(() => avatarLandmarkMap(half)).toThrow('tiny: tensors/landmark_source_mean: landmark_source_mean and landmark_source_std come together');
  });
});
