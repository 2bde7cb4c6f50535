import { describe, expect, it } from 'vitest';
import { AudioFeatureStream, audioToMel } from '../../worker/audio/features.ts';
import { MEL } from '../../worker/audio/mel.ts';
import { OnlineMvn, priorFromFrames, validateFeatureNorm, type OnlineMvnSpec } from '../../worker/audio/online-norm.ts';
import { FormatError } from '../../worker/errors.ts';
import { decodeOnnx, encodeOnnx } from '../../worker/io/onnx-proto.ts';
import { LANDMARK_DIM, createGenerator, makeRng, type LandmarkGenerator } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx, generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { LandmarkStream, predictLandmarks, type LandmarkFrame } from '../../worker/landmarks/stream.ts';
import { AUGMENT_DEFAULTS, AUGMENT_OFF } from '../../trainer/generator-augment.ts';
import { TRAIN_DEFAULTS, pairFeatures, prepareData, segmentInput, trainGenerator, type TrainOptions } from '../../trainer/train-generator.ts';

const B = MEL.bins;

/** Voiced syllables at 4 Hz with a moving formant over a quiet noise floor, so every band sounds. */
function speechLike(rate: number, seconds: number, seed = 1): Float32Array {
  const rng = makeRng(seed);
  const n = Math.round(rate * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = Math.max(0, Math.sin(2 * Math.PI * 4 * t));
    const f = 600 + 500 * Math.sin(2 * Math.PI * 0.7 * t);
    x[i] = 0.3 * env * (Math.sin(2 * Math.PI * 140 * t) + 0.6 * Math.sin(2 * Math.PI * f * t) + 0.3 * Math.sin(2 * Math.PI * 2.6 * f * t)) + 0.01 * (2 * rng() - 1);
  }
  return x;
}

function specFor(x: Float32Array, rate: number, tau: number): OnlineMvnSpec {
  // A prior from other audio than the test input (as the corpus's statistics would be).
  const prior = priorFromFrames(audioToMel(speechLike(rate, 3, 9).map((v) => 0.5 * v), rate, 0, 300));
  return { kind: 'online-mvn', tau, priorSeconds: 0.5, gate: -9, ...prior };
}

function normalised(): ReturnType<typeof createGenerator> {
  const g = createGenerator({ channels: 16, lookAhead: 2 }, 4);
  for (let d = 0; d < LANDMARK_DIM; d++) g.outScale[d] = 0.1 + d * 0.001;
  g.featureNorm = specFor(speechLike(16000, 1), 16000, 2);
  return g;
}

describe('online mean/variance normalisation of the features', () => {
  it('streaming equals offline, bit for bit, for odd chunk sizes', () => {
    const rate = 44100;
    const x = speechLike(rate, 2.3);
    const spec = specFor(x, rate, 1.5);
    const end = 230;
    const offline = audioToMel(x, rate, -48, end, spec);
    for (const chunk of [1, 7, 333, 4801]) {
      const s = new AudioFeatureStream(-48, spec);
      const parts: Float32Array[] = [];
      for (let at = 0; at < x.length; at += chunk) parts.push(s.push(x.subarray(at, at + chunk), rate));
      parts.push(s.finish(end));
      const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
      expect(all.subarray(0, offline.length), `chunk ${chunk}`).toEqual(offline);
    }
    // and it does change the features (the option is not a no-op)
    const raw = audioToMel(x, rate, -48, end);
    expect(Math.max(...offline.map((v, i) => Math.abs(v - raw[i])))).toBeGreaterThan(1);
  });

  it('a fixed gain or spectral tilt of the input changes the normalised features only during the first seconds', () => {
    const rate = 16000;
    const x = speechLike(rate, 10);
    const gained = x.map((v) => 0.2 * v); // -14 dB
    const tilted = x.map((v, i) => v - 0.9 * (i > 0 ? x[i - 1] : 0)); // +-20 dB pre-emphasis
    const spec = specFor(x, rate, 1);
    const ref = audioToMel(x, rate, 0, 1000, spec);
    for (const [name, y] of [['gain', gained], ['tilt', tilted]] as const) {
      const rawDiff = meanAbsDiff(audioToMel(x, rate, 0, 1000), audioToMel(y, rate, 0, 1000), 700, 1000);
      const out = audioToMel(y, rate, 0, 1000, spec);
      const early = meanAbsDiff(ref, out, 0, 50);
      const late = meanAbsDiff(ref, out, 700, 1000);
      expect(early, `${name} first 0.5 s`).toBeGreaterThan(0.2);
      expect(late, `${name} after 7 s`).toBeLessThan(0.1 * early);
      expect(late, `${name} after 7 s vs raw log-mel`).toBeLessThan(0.05 * rawDiff);
    }
  });

  it('a pause does not move the statistics: the first word after it is normalised as before it', () => {
    const rate = 16000;
    const spec = specFor(speechLike(rate, 1), rate, 1);
    const x = speechLike(rate, 2);
    const a = new OnlineMvn(spec);
    const b = new OnlineMvn(spec);
    const mel = audioToMel(x, rate, 0, 200);
    const silence = audioToMel(new Float32Array(rate * 3), rate, 0, 300);
    a.push(mel);
    b.push(mel);
    b.push(silence);
    expect(b.push(mel)).toEqual(a.push(mel));
  });

  it('a quiet floor puts the silence after loud speech where the same silence before it lies', () => {
    // A room quieter than the gate, 4 s of speech 12 dB louder than the prior's, the same room:
    // the statistics move up to the speech and the quiet room never pulls them back (the case
    // of eSpeak NG held-out clip 7: its silence read -1.64 before the speech, -1.99 after).
    const rate = 16000;
    const spec = specFor(speechLike(rate, 1), rate, 3);
    const rng = makeRng(5);
    const room = (seconds: number) => Float32Array.from({ length: rate * seconds }, () => 5e-4 * (2 * rng() - 1));
    const x = new Float32Array(rate * 7);
    x.set(room(1), 0);
    x.set(speechLike(rate, 4, 2).map((v) => 2 * v), rate);
    x.set(room(2), rate * 5);
    const raw = audioToMel(x, rate, 0, 700);
    const before = [5, 95] as const;
    const after = [560, 700] as const;
    const mean = (m: Float32Array, [a, b]: readonly [number, number]) => m.subarray(a * B, b * B).reduce((s, v) => s + v, 0) / ((b - a) * B);
    expect(mean(raw, before), 'the room is under the gate').toBeLessThan(spec.gate);
    expect(Math.abs(mean(raw, after) - mean(raw, before)), 'the same room after the speech').toBeLessThan(0.05);

    const unbounded = new OnlineMvn(spec).push(raw);
    expect(mean(unbounded, after) - mean(unbounded, before), 'without the floor, silence after speech reads lower').toBeLessThan(-0.3);

    const floored = new OnlineMvn({ ...spec, quietFloor: 1.5 }).push(raw);
    expect(Math.abs(mean(floored, after) - mean(floored, before))).toBeLessThan(0.05);
    // quiet frames read no lower than the floor; frames with sound are never bounded, and the
    // statistics are the same as without the floor
    let sounding = 0;
    let lowestQuiet = Infinity;
    for (let t = 0; t < 700; t++) {
      const row = raw.subarray(t * B, (t + 1) * B);
      const out = floored.subarray(t * B, (t + 1) * B);
      if (row.reduce((s, v) => s + v, 0) / B <= spec.gate) {
        lowestQuiet = Math.min(lowestQuiet, ...out);
        continue;
      }
      sounding++;
      expect(out).toEqual(unbounded.subarray(t * B, (t + 1) * B));
    }
    expect(lowestQuiet).toBe(-1.5);
    expect(sounding).toBeGreaterThan(300);
  });

  it('rejects a bad specification naming the field', () => {
    const spec = specFor(speechLike(16000, 1), 16000, 1);
    expect(() => validateFeatureNorm({ ...spec, tau: 0 })).toThrow(/featureNorm.tau: expected a number in \[0.1, 600\]/);
    expect(() => validateFeatureNorm({ ...spec, std: spec.std.map((v, i) => (i === 3 ? 0 : v)) })).toThrow(/featureNorm.std\[3\]: expected a finite positive number/);
    expect(() => validateFeatureNorm({ ...spec, mean: [1, 2] })).toThrow(/featureNorm.mean: expected 80 numbers/);
    expect(() => validateFeatureNorm({ kind: 'cmvn' })).toThrow(/featureNorm.kind: expected "none" or "online-mvn"/);
    expect(() => validateFeatureNorm({ ...spec, quietFloor: 0 })).toThrow(/featureNorm.quietFloor: expected a number in \[0.1, 20\]/);
    expect(() => validateFeatureNorm({ ...spec, quietFloor: 'deep' })).toThrow(/featureNorm.quietFloor/);
    expect(() => priorFromFrames(new Float32Array(10 * B).fill(Math.log(MEL.floor)))).toThrow(/no frame above the gate/);
  });
});

function meanAbsDiff(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from * B; i < to * B; i++) s += Math.abs(a[i] - b[i]);
  return s / ((to - from) * B);
}

describe('a generator that reads normalised features', () => {
  it('the live stream emits the offline track bit for bit, and differs from the same weights on raw features', () => {
    const g = normalised();
    const rate = 48000;
    const x = speechLike(rate, 1.3);
    const offline = predictLandmarks(g, x, rate);
    for (const chunk of [97, 1001]) {
      const s = new LandmarkStream(g);
      const frames: LandmarkFrame[] = [];
      for (let at = 0; at < x.length; at += chunk) frames.push(...s.push(x.subarray(at, at + chunk), rate));
      frames.push(...s.finish());
      expect(frames.length).toBe(offline.frames);
      frames.forEach((f, i) => expect(f.landmarks).toEqual(offline.landmarks.subarray(i * LANDMARK_DIM, (i + 1) * LANDMARK_DIM)));
    }
    const raw = predictLandmarks({ ...g, featureNorm: undefined }, x, rate);
    expect(raw.landmarks).not.toEqual(offline.landmarks);
  });

  it('the model file says which normalisation it expects; raw-feature models stay version 1', () => {
    const g = normalised();
    const bytes = generatorToOnnx(g);
    const meta = new Map(decodeOnnx(bytes).metadataProps?.map((e) => [e.key, e.value]));
    expect(meta.get('r2talker.version')).toBe('2');
    const back = generatorFromOnnx(bytes);
    expect(back.featureNorm).toEqual(g.featureNorm);
    const x = speechLike(16000, 0.8);
    expect(predictLandmarks(back, x, 16000).landmarks).toEqual(predictLandmarks(g, x, 16000).landmarks);

    const plain = generatorToOnnx({ ...g, featureNorm: undefined });
    const plainMeta = new Map(decodeOnnx(plain).metadataProps?.map((e) => [e.key, e.value]));
    expect(plainMeta.get('r2talker.version')).toBe('1');
    expect(plainMeta.has('r2talker.featureNorm')).toBe(false);
    expect(generatorFromOnnx(plain).featureNorm).toBeUndefined();
  });

  it('a quiet floor makes the model version 3, so that a player that would ignore the floor refuses it', () => {
    const g = normalised();
    const floored = { ...g, featureNorm: { ...(g.featureNorm as OnlineMvnSpec), quietFloor: 1.5 } };
    const bytes = generatorToOnnx(floored);
    const meta = new Map(decodeOnnx(bytes).metadataProps?.map((e) => [e.key, e.value]));
    expect(meta.get('r2talker.version')).toBe('3');
    const back = generatorFromOnnx(bytes);
    expect(back.featureNorm).toEqual(floored.featureNorm);
    // silence after loud speech: the floor changes what the model reads, so the landmarks differ
    const x = new Float32Array(16000 * 3);
    x.set(speechLike(16000, 1.5).map((v) => 2 * v));
    const y = predictLandmarks(back, x, 16000).landmarks;
    expect(y).toEqual(predictLandmarks(floored, x, 16000).landmarks);
    expect(y).not.toEqual(predictLandmarks(g, x, 16000).landmarks);
    const edit = (from: LandmarkGenerator, f: (props: { key: string; value: string }[]) => void): Uint8Array => {
      const m = decodeOnnx(generatorToOnnx(from));
      f(m.metadataProps ?? []);
      return encodeOnnx(m);
    };
    expect(() => generatorFromOnnx(edit(floored, (p) => (p.find((e) => e.key === 'r2talker.version')!.value = '2')))).toThrow(/metadata.featureNorm.quietFloor: version 2 must not carry a quiet floor/);
    expect(() => generatorFromOnnx(edit(g, (p) => (p.find((e) => e.key === 'r2talker.version')!.value = '3')))).toThrow(/metadata.featureNorm.quietFloor: version 3 needs a quiet floor/);
    expect(() => generatorFromOnnx(edit(g, (p) => (p.find((e) => e.key === 'r2talker.version')!.value = '4')))).toThrow(/metadata.version: expected 1, 2 or 3/);
  });

  it('refuses a model whose version and normalisation disagree, or whose normalisation is malformed', () => {
    const g = normalised();
    const edit = (f: (props: { key: string; value: string }[]) => void): Uint8Array => {
      const m = decodeOnnx(generatorToOnnx(g));
      f(m.metadataProps ?? []);
      return encodeOnnx(m);
    };
    const expectFormat = (bytes: Uint8Array, pattern: RegExp) => {
      let err: unknown = null;
      try {
        generatorFromOnnx(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(pattern);
    };
    expectFormat(edit((p) => p.splice(p.findIndex((e) => e.key === 'r2talker.featureNorm'), 1)), /metadata.featureNorm: version 2 needs a feature normalisation/);
    expectFormat(edit((p) => (p.find((e) => e.key === 'r2talker.version')!.value = '1')), /metadata.featureNorm: version 1 must not carry/);
    expectFormat(edit((p) => (p.find((e) => e.key === 'r2talker.featureNorm')!.value = '{"kind":')), /metadata.featureNorm: expected JSON/);
    expectFormat(edit((p) => (p.find((e) => e.key === 'r2talker.featureNorm')!.value = JSON.stringify({ ...g.featureNorm, tau: -1 }))), /featureNorm.tau/);
  });
});

describe('training on normalised features', () => {
  const rate = 16000;
  const n = 250;
  const pcm = speechLike(rate, n * 0.04, 3);
  const landmarks = new Float32Array(n * LANDMARK_DIM);
  for (let t = 0; t < n; t++) landmarks[t * LANDMARK_DIM + 62 * 3 + 1] = 0.5 * Math.max(0, Math.sin(2 * Math.PI * 4 * t * 0.04));
  const pair = { pcm, sampleRate: rate, landmarks, frames: n };
  const opts = { channels: 8, epochs: 10, maxSteps: 5, segmentFrames: 30, lr: 0.01, gainDb: 0, validationFraction: 0 };

  it('stores its spec in the generator, and the trained chain ignores a fixed input gain after the first seconds', () => {
    const g = trainGenerator([pair], { ...opts, featureNorm: { tau: 1, priorSeconds: 0.5 } }).generator;
    expect(g.featureNorm?.kind).toBe('online-mvn');
    const a = predictLandmarks(g, pcm, rate);
    const b = predictLandmarks(g, pcm.map((v) => 0.25 * v), rate);
    const diff = (from: number, to: number) => {
      let s = 0;
      for (let i = from * LANDMARK_DIM; i < to * LANDMARK_DIM; i++) s += Math.abs(a.landmarks[i] - b.landmarks[i]);
      return s;
    };
    expect(diff(220, 250)).toBeLessThan(0.1 * diff(0, 30));
  });

  it('rejects a bad time constant, naming the option', () => {
    expect(() => trainGenerator([pair], { ...opts, featureNorm: { tau: 0, priorSeconds: 0.5 } })).toThrow(/train.featureNorm.tau: expected 0.1..600/);
  });

  /** A normalised generator with its prepared clip, as the trainer sets them up for `o`. */
  const prepared = (o: Partial<TrainOptions>) => {
    const options: TrainOptions = { ...TRAIN_DEFAULTS, channels: 8, space: 'template', validationFraction: 0, featureNorm: { tau: 1, priorSeconds: 0.5 }, ...o };
    const g = createGenerator({ channels: 8, lookAhead: 2 }, 2);
    g.space = 'template';
    const [p] = prepareData(g, [pair], options);
    return { g, p, options };
  };
  const seg = { pair: 0, start: 150, frames: 30 };
  const meanAbs = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

  it('a gained segment is what the normaliser makes of the louder recording, not a gain on normalised features', () => {
    const { g, p, options } = prepared({ gainDb: 10 });
    const norm = g.featureNorm as OnlineMvnSpec;
    // rng 0.9 draws +8 dB: the microphone delivered the whole clip 8 dB louder.
    const input = segmentInput(g, p, seg, options, () => 0.9);
    const louder = pairFeatures({ ...pair, pcm: pcm.map((v) => v * Math.pow(10, 8 / 20)) });
    const from = seg.start * 4 * B;
    const expected = new OnlineMvn(norm).push(louder).subarray(from, from + input.nMel * B);
    expect(input.mel.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(input.mel[i] - expected[i]));
    expect(worst).toBeLessThan(1e-3);
    // The order this replaces: the same gain on the already normalised segment is another input.
    const clean = segmentInput(g, p, seg, { ...options, gainDb: 0 }, () => 0.9).mel;
    const gainedAfter = clean.map((v) => Math.log(Math.max(0, Math.exp(v) - MEL.floor) * Math.pow(10, 0.8) + MEL.floor));
    expect(meanAbs(gainedAfter, expected)).toBeGreaterThan(0.1);
  });

  it('an augmented, normalised batch equals the normaliser run on the augmented raw features', () => {
    const recipe = { augment: { ...AUGMENT_DEFAULTS, probability: 1 }, speed: 0.1, gainDb: 10, nonSpeech: 0.2, tones: 0.2 };
    const { g, p, options } = prepared(recipe);
    const norm = g.featureNorm as OnlineMvnSpec;
    const from = seg.start * 4 * B;
    let replaced = 0;
    for (let k = 1; k <= 6; k++) {
      const input = segmentInput(g, p, seg, options, makeRng(k));
      const stream = input.rawStream!;
      expect(stream.length).toBe(from + input.nMel * B);
      expect(Array.from(input.mel)).toEqual(Array.from(new OnlineMvn(norm).push(stream).subarray(from)));
      // the channel acts on the clip before the segment too, as it would on a live line
      expect(meanAbs(stream.subarray(0, from), p.raw!.subarray(0, from))).toBeGreaterThan(0.01);
      if (input.closures.length === 0 && input.frameWeight === null) replaced++;
    }
    expect(replaced).toBeGreaterThan(0);
    // Only the band-limited stream, so its effect is checked on its own: high bands lose >= 20 dB before the segment.
    const phone = prepared({ augment: { ...AUGMENT_OFF, probability: 1, telephone: 1 } });
    const line = segmentInput(phone.g, phone.p, seg, phone.options, makeRng(3)).rawStream!;
    const top = (m: Float32Array) => {
      let s = 0;
      for (let t = 0; t < seg.start * 4; t++) s += Math.exp(m[t * B + B - 1]) - MEL.floor;
      return s;
    };
    expect(10 * Math.log10(top(phone.p.raw!) / top(line))).toBeGreaterThan(20);
    // and the whole recipe trains
    const r = trainGenerator([pair], { ...opts, ...recipe, space: 'template', featureNorm: { tau: 1, priorSeconds: 0.5 } });
    expect(Number.isFinite(r.trainLoss)).toBe(true);
  });
});
