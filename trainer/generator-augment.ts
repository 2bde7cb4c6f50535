/**
 * Training-time augmentation of log-mel segments for the landmark generator (issue 12): the
 * mouth must follow the words whoever speaks, on whatever channel. Every operation works on
 * mel power P = exp(mel) - floor, where it is (in expectation) exact or a close model:
 *  - vocal-tract-length / pitch warp: the mel axis is stretched by alpha in [1-w, 1+w]
 *    (VTLP: formants and harmonics move together, as between speakers);
 *  - reverberation: each bin gets an exponentially decaying tail of its own past power, with
 *    T60 0.15-0.8 s and a direct-to-reverberant ratio of 0-12 dB (late reverberation's energy
 *    envelope; rooms and speakerphones);
 *  - telephone band: bins outside 300-3400 Hz are attenuated by 30-50 dB (landline/GSM);
 *  - noise at 10-30 dB SNR relative to the segment's speech power, white, pink or brown,
 *    with the per-cell spread of a noise periodogram (mel power adds for uncorrelated noise);
 * Gain (microphone level, automatic gain control) is applied by the trainer to every segment.
 * Speed perturbation changes time, so it lives with the segment sampling in
 * train-generator.ts (`speedWarp`), which warps the targets alike.
 */
import { ConfigError } from '../worker/errors.ts';
import { MEL } from '../worker/audio/mel.ts';
import { gaussian } from '../worker/landmarks/model.ts';

export interface AugmentOptions {
  /** probability that a segment is augmented at all (the rest stay clean) */
  probability: number;
  /** mel-axis warp half-range (0.1 = alpha in [0.9, 1.1]) */
  warp: number;
  /** probabilities of each channel effect on an augmented segment */
  reverb: number;
  telephone: number;
  noise: number;
  /** SNR range of added noise, dB */
  snrDb: [number, number];
}

export const AUGMENT_DEFAULTS: AugmentOptions = {
  probability: 0.7,
  warp: 0.12,
  reverb: 0.3,
  telephone: 0.3,
  noise: 0.5,
  snrDb: [10, 30],
};

export const AUGMENT_OFF: AugmentOptions = { probability: 0, warp: 0, reverb: 0, telephone: 0, noise: 0, snrDb: [10, 30] };

export function checkAugment(o: AugmentOptions): void {
  const p01 = (name: keyof AugmentOptions) => {
    const v = o[name] as number;
    if (!(v >= 0 && v <= 1)) throw new ConfigError(`augment.${name}: expected a probability in [0, 1], got ${v}`);
  };
  (['probability', 'reverb', 'telephone', 'noise'] as const).forEach(p01);
  if (!(o.warp >= 0 && o.warp <= 0.3)) throw new ConfigError(`augment.warp: expected 0..0.3, got ${o.warp}`);
  if (!(o.snrDb[0] >= -10 && o.snrDb[0] <= o.snrDb[1] && o.snrDb[1] <= 60)) throw new ConfigError(`augment.snrDb: expected [lo, hi] with -10 <= lo <= hi <= 60, got [${o.snrDb.join(', ')}]`);
}

const hzToMel = (f: number) => 2595 * Math.log10(1 + f / 700);
const melToHz = (m: number) => 700 * (Math.pow(10, m / 2595) - 1);

/** Centre frequency (Hz) and width (Hz) of each mel triangle, as worker/audio/mel.ts builds them. */
export const MEL_CENTRES: { hz: Float64Array; width: Float64Array } = (() => {
  const lo = hzToMel(MEL.fmin);
  const hi = hzToMel(MEL.fmax);
  const edge = (i: number) => melToHz(lo + ((hi - lo) * i) / (MEL.bins + 1));
  const hz = new Float64Array(MEL.bins);
  const width = new Float64Array(MEL.bins);
  for (let m = 0; m < MEL.bins; m++) {
    hz[m] = edge(m + 1);
    width[m] = edge(m + 2) - edge(m);
  }
  return { hz, width };
})();

export const toPower = (mel: Float32Array): Float64Array => Float64Array.from(mel, (v) => Math.max(0, Math.exp(v) - MEL.floor));
export const toLogMel = (p: Float64Array): Float32Array => Float32Array.from(p, (v) => Math.log(v + MEL.floor));

/** Mel-axis warp by `alpha` (> 1 moves energy up: a shorter vocal tract), linear in power. */
export function warpBins(p: Float64Array, rows: number, alpha: number): Float64Array {
  const B = MEL.bins;
  const out = new Float64Array(p.length);
  for (let c = 0; c < B; c++) {
    const src = Math.min(B - 1, Math.max(0, c / alpha));
    const i0 = Math.floor(src);
    const i1 = Math.min(B - 1, i0 + 1);
    const f = src - i0;
    for (let t = 0; t < rows; t++) out[t * B + c] = (1 - f) * p[t * B + i0] + f * p[t * B + i1];
  }
  return out;
}

/** Late-reverberation energy tail: T60 seconds, direct-to-reverberant ratio drrDb. */
export function reverberate(p: Float64Array, rows: number, t60: number, drrDb: number): Float64Array {
  const B = MEL.bins;
  const a = Math.pow(10, -6 / (t60 * MEL.rate)); // -60 dB after t60 seconds of 10 ms frames
  const g = Math.pow(10, -drrDb / 10) * ((1 - a) / a);
  const out = new Float64Array(p.length);
  for (let c = 0; c < B; c++) {
    let tail = 0;
    for (let t = 0; t < rows; t++) {
      out[t * B + c] = p[t * B + c] + g * tail;
      tail = a * (tail + p[t * B + c]);
    }
  }
  return out;
}

/** Telephone channel: bins centred outside [lowHz, highHz] lose `stopDb`, with a one-octave slope. */
export function bandLimit(p: Float64Array, rows: number, stopDb: number, lowHz = 300, highHz = 3400): Float64Array {
  const B = MEL.bins;
  const out = new Float64Array(p.length);
  for (let c = 0; c < B; c++) {
    const f = MEL_CENTRES.hz[c];
    const octavesOut = f < lowHz ? Math.log2(lowHz / f) : f > highHz ? Math.log2(f / highHz) : 0;
    const gain = Math.pow(10, (-stopDb * Math.min(1, octavesOut)) / 10);
    for (let t = 0; t < rows; t++) out[t * B + c] = p[t * B + c] * gain;
  }
  return out;
}

export type NoiseColour = 'white' | 'pink' | 'brown';

/**
 * Adds noise whose total power is the segment's mean speech power over `snrDb`. Speech power is
 * the mean over its loudest half of frames, so leading/trailing silence does not lower it.
 */
export function addNoise(p: Float64Array, rows: number, snrDb: number, colour: NoiseColour, rng: () => number): Float64Array {
  const B = MEL.bins;
  const frameP = new Float64Array(rows);
  for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) frameP[t] += p[t * B + c];
  const sorted = Array.from(frameP).sort((x, y) => y - x);
  const loud = sorted.slice(0, Math.max(1, Math.ceil(rows / 2)));
  const speech = loud.reduce((s, v) => s + v, 0) / loud.length;
  // Noise power per bin: white is flat per Hz, so proportional to the triangle's width.
  const shape = new Float64Array(B);
  const slope = colour === 'white' ? 0 : colour === 'pink' ? 1 : 2;
  for (let c = 0; c < B; c++) shape[c] = MEL_CENTRES.width[c] / Math.pow(MEL_CENTRES.hz[c] / 1000, slope);
  const sum = Math.max(1e-30, shape.reduce((s, v) => s + v, 0));
  const level = (speech * Math.pow(10, -snrDb / 10)) / sum;
  const out = new Float64Array(p.length);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < B; c++) {
      // A mel bin averages a few periodogram bins: spread of about +-2 dB around the mean.
      const spread = Math.exp(0.45 * gaussian(rng) - 0.5 * 0.45 * 0.45);
      out[t * B + c] = p[t * B + c] + level * shape[c] * spread;
    }
  }
  return out;
}

/** One random augmentation of a log-mel segment [rows][80]; returns a new array. */
export function augmentMel(mel: Float32Array, rows: number, rng: () => number, o: AugmentOptions): Float32Array {
  if (mel.length < rows * MEL.bins) throw new ConfigError(`augment.mel: expected ${rows * MEL.bins} values, got ${mel.length}`);
  let p = toPower(mel.subarray(0, rows * MEL.bins));
  if (rng() < o.probability) {
    if (o.warp > 0) p = warpBins(p, rows, 1 + o.warp * (2 * rng() - 1));
    if (rng() < o.reverb) p = reverberate(p, rows, 0.15 + 0.65 * rng(), 12 * rng());
    if (rng() < o.telephone) p = bandLimit(p, rows, 30 + 20 * rng());
    if (rng() < o.noise) {
      const colours: NoiseColour[] = ['white', 'pink', 'brown'];
      p = addNoise(p, rows, o.snrDb[0] + (o.snrDb[1] - o.snrDb[0]) * rng(), colours[Math.floor(rng() * 3)], rng);
    }
  }
  return toLogMel(p);
}

const edgeHz = (i: number) => melToHz(hzToMel(MEL.fmin) + ((hzToMel(MEL.fmax) - hzToMel(MEL.fmin)) * i) / (MEL.bins + 1));

/** Weight of mel triangle `c` at frequency `f` (peak 1 at its centre). */
function triangle(c: number, f: number): number {
  const a = edgeHz(c);
  const b = edgeHz(c + 1);
  const d = edgeHz(c + 2);
  return f <= a || f >= d ? 0 : f <= b ? (f - a) / (b - a) : (d - f) / (d - b);
}

/**
 * The channel the speech came through, as a per-bin gain for a sound that replaces it: bins
 * where the segment's mean speech power is more than 30 dB below its strongest bin are
 * attenuated to that level (an 8 kHz recording has nothing above 4 kHz, a telephone line
 * little below 300 Hz), the rest pass. A hum or tune that replaces narrow-band speech is then
 * narrow-band too, as it would be on that line, instead of a full-band sound the channel could
 * not carry (which taught the band edge, not the sound, to keep the mouth shut).
 */
function channelGain(p: Float64Array, rows: number): Float64Array {
  const B = MEL.bins;
  const mean = new Float64Array(B);
  for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) mean[c] += p[t * B + c] / rows;
  const ref = Math.max(...mean) * 1e-3;
  return Float64Array.from(mean, (m) => (ref > 0 ? Math.min(1, m / ref) : 1));
}

/**
 * A loudness-matched sound that is not speech, as log-mel rows: a hum (harmonics of 50-300 Hz
 * falling 6 dB per octave: mains hum, a motor, a held note) or a burst of coloured noise (a
 * fan, a door, typing), switched on and off at random inside the segment, at the power of the
 * loudest half of `speech`'s frames over the quietest tenth (the room), through the speech's
 * channel (`channelGain`). Trained with the rest pose as target, it teaches the generator that loudness alone does not open the mouth.
 */
export function nonSpeechMel(speech: Float32Array, rows: number, rng: () => number): Float32Array {
  const B = MEL.bins;
  const p = toPower(speech.subarray(0, rows * B));
  const frameP = new Float64Array(rows);
  for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) frameP[t] += p[t * B + c];
  const sorted = Array.from(frameP).sort((x, y) => x - y);
  const loud = sorted.slice(Math.floor(rows / 2));
  const level = loud.reduce((s, v) => s + v, 0) / Math.max(1, loud.length);
  const room = sorted[Math.floor(0.1 * (rows - 1))] / B;
  const shape = new Float64Array(B);
  if (rng() < 0.5) {
    const f0 = 50 + 250 * rng();
    for (let f = f0; f < MEL.fmax; f += f0) {
      const amp = f0 / f; // -6 dB per octave
      for (let c = 0; c < B; c++) shape[c] += amp * amp * triangle(c, f);
    }
  } else {
    const slope = Math.floor(rng() * 3);
    for (let c = 0; c < B; c++) shape[c] = MEL_CENTRES.width[c] / Math.pow(MEL_CENTRES.hz[c] / 1000, slope);
  }
  const gain = channelGain(p, rows);
  for (let c = 0; c < B; c++) shape[c] *= gain[c];
  const sum = Math.max(1e-30, shape.reduce((s, v) => s + v, 0));
  // On for a random stretch (at least a third of the segment), with 20 ms ramps.
  const len = Math.max(1, Math.round(rows * (0.33 + 0.67 * rng())));
  const on = Math.floor(rng() * (rows - len + 1));
  const out = new Float64Array(rows * B);
  for (let t = 0; t < rows; t++) {
    const ramp = Math.min(1, Math.max(0, Math.min(t - on + 1, on + len - t) / 2));
    for (let c = 0; c < B; c++) {
      const spread = Math.exp(0.45 * gaussian(rng) - 0.5 * 0.45 * 0.45);
      out[t * B + c] = room * spread + ((ramp * level) / sum) * shape[c];
    }
  }
  return toLogMel(out);
}

/**
 * A quiet room, as log-mel rows: steady white, pink or brown noise 35-75 dB below the power of
 * the loudest half of `speech`'s frames, nothing else. Trained with the rest pose as target so
 * that the mouth stays still between words in a real room; the corpora's own pauses carry only
 * one noise floor per clip, and a generator fine-tuned on speech learnt to twitch at others.
 */
export function quietRoomMel(speech: Float32Array, rows: number, rng: () => number): Float32Array {
  const B = MEL.bins;
  if (speech.length < rows * B) throw new ConfigError(`augment.mel: expected ${rows * B} values, got ${speech.length}`);
  const p = toPower(speech.subarray(0, rows * B));
  const frameP = new Float64Array(rows);
  for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) frameP[t] += p[t * B + c];
  const sorted = Array.from(frameP).sort((x, y) => y - x);
  const loud = sorted.slice(0, Math.max(1, Math.ceil(rows / 2)));
  const level = (loud.reduce((s, v) => s + v, 0) / loud.length) * Math.pow(10, -(35 + 40 * rng()) / 10);
  const slope = Math.floor(rng() * 3);
  const shape = new Float64Array(B);
  for (let c = 0; c < B; c++) shape[c] = MEL_CENTRES.width[c] / Math.pow(MEL_CENTRES.hz[c] / 1000, slope);
  const sum = Math.max(1e-30, shape.reduce((s, v) => s + v, 0));
  const out = new Float64Array(rows * B);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < B; c++) out[t * B + c] = ((level * shape[c]) / sum) * Math.exp(0.45 * gaussian(rng) - 0.5 * 0.45 * 0.45);
  }
  return toLogMel(out);
}

/**
 * Music-like tones and hummed melodies, as log-mel rows: a sequence of notes (fundamental
 * 70-700 Hz, log-uniform; harmonics falling 3-9 dB per octave; sometimes a second note a third,
 * fourth or fifth above), each 80-400 ms with a 10-30 ms attack and a sustain or decay, with
 * gaps of 30-150 ms between some of them, loudness-matched to `speech` as `nonSpeechMel` is
 * (loud half of the frames, random +-6 dB) and channel, over the segment's quietest tenth (the room).
 * Trained with the rest pose as target. A steady hum teaches that a constant voiced sound does
 * not open the mouth; these add the syllable-rate onsets, pitch changes and pauses that speech
 * has, so that rhythm and loudness together do not either: only the vowels' formant patterns
 * may (a tune hummed with closed lips is what the rest pose shows).
 */
export function toneSequenceMel(speech: Float32Array, rows: number, rng: () => number): Float32Array {
  const B = MEL.bins;
  if (!Number.isInteger(rows) || rows < 1) throw new ConfigError(`augment.tones: expected a positive row count, got ${rows}`);
  if (speech.length < rows * B) throw new ConfigError(`augment.tones: expected ${rows * B} values, got ${speech.length}`);
  const p = toPower(speech.subarray(0, rows * B));
  const frameP = new Float64Array(rows);
  for (let t = 0; t < rows; t++) for (let c = 0; c < B; c++) frameP[t] += p[t * B + c];
  const sorted = Array.from(frameP).sort((x, y) => x - y);
  const loud = sorted.slice(Math.floor(rows / 2));
  const level = (loud.reduce((s, v) => s + v, 0) / Math.max(1, loud.length)) * Math.pow(10, (12 * rng() - 6) / 10);
  const room = sorted[Math.floor(0.1 * (rows - 1))] / B;
  const out = new Float64Array(rows * B);
  const shape = new Float64Array(B);
  const gain = channelGain(p, rows);
  const tilt = 0.5 + rng(); // amplitude ~ (f0/f)^tilt: 3-9 dB per octave
  let t = Math.floor(rng() * 6);
  while (t < rows) {
    const len = 8 + Math.floor(rng() * 33); // 80-400 ms
    const f0 = 70 * Math.pow(10, rng()); // 70-700 Hz
    const chord = rng() < 0.3 ? [1, [1.25, 1.333, 1.5][Math.floor(rng() * 3)]] : [1];
    shape.fill(0);
    for (const ratio of chord) {
      const f1 = f0 * ratio;
      for (let f = f1; f < MEL.fmax; f += f1) {
        const amp = Math.pow(f1 / f, tilt);
        for (let c = 0; c < B; c++) shape[c] += amp * amp * triangle(c, f);
      }
    }
    for (let c = 0; c < B; c++) shape[c] *= gain[c];
    const sum = Math.max(1e-30, shape.reduce((s, v) => s + v, 0));
    const attack = 1 + Math.floor(rng() * 3);
    const decay = rng() < 0.5 ? 0 : (2 + 4 * rng()) / len; // power decays by e^-(2..6) over the note, or is held
    for (let k = 0; k < len && t + k < rows; k++) {
      const env = Math.min(1, (k + 1) / attack) * Math.exp(-decay * k) * Math.min(1, (len - k) / 2);
      const row = t + k;
      for (let c = 0; c < B; c++) out[row * B + c] += ((env * level) / sum) * shape[c];
    }
    t += len + (rng() < 0.5 ? 3 + Math.floor(rng() * 13) : 0);
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < B; c++) out[r * B + c] += room * Math.exp(0.45 * gaussian(rng) - 0.5 * 0.45 * 0.45);
  }
  return toLogMel(out);
}
