/**
 * Does loudness alone drive the mouth? (issue 12) A generator that learnt "loud = open" opens
 * the mouth on a fan, a hum or a door as on speech. This check plays a hum (harmonics of
 * 120 Hz falling 6 dB per octave) and a burst of pink-ish noise, each matched to the RMS of
 * the given speech's voiced part (and, reported on its own, a tune of harmonic notes with
 * onsets and pauses at syllable rate), and compares how far the mouth opens on them with how far it
 * opens on the speech: the 95th percentile of inner-lip opening over each sound's frames.
 */
import { ConfigError } from '../errors.ts';
import { gaussian, makeRng, type LandmarkGenerator } from './model.ts';
import { lipOpening } from './quality.ts';
import { predictLandmarks } from './stream.ts';

export interface LoudnessReport {
  /** 95th percentile inner-lip opening (template units) over the speech's voiced frames */
  speech: number;
  hum: number;
  noise: number;
  /** a tune of harmonic notes with onsets and pauses at syllable rate, loudness-matched too */
  tones: number;
  /** the larger of hum / speech and noise / speech (the hum or noise burst) */
  ratio: number;
}

function percentile95(x: number[]): number {
  if (x.length === 0) return 0;
  const s = [...x].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(0.95 * (s.length - 1)))];
}

/** RMS over the samples whose 20 ms frame is within 20 dB of the loudest frame (the voiced part). */
export function activeRms(pcm: Float32Array, sampleRate: number): number {
  const n = Math.max(1, Math.round(0.02 * sampleRate));
  const frames: number[] = [];
  for (let i = 0; i + n <= pcm.length; i += n) {
    let s = 0;
    for (let k = 0; k < n; k++) s += pcm[i + k] ** 2;
    frames.push(s / n);
  }
  const peak = Math.max(0, ...frames);
  const active = frames.filter((e) => e >= peak / 100);
  return Math.sqrt(active.reduce((a, b) => a + b, 0) / Math.max(1, active.length));
}

/** `seconds` of sound with 0.5 s of silence either side, RMS `rms` while on. */
export function testSound(kind: 'hum' | 'noise' | 'tones', seconds: number, sampleRate: number, rms: number, seed = 7): Float32Array {
  const pad = Math.round(0.5 * sampleRate);
  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(pad + n + pad);
  const body = new Float32Array(n);
  if (kind === 'hum') {
    const f0 = 120;
    for (let h = 1; h * f0 < sampleRate / 2 - 200; h++) {
      const phase = h * 0.7;
      for (let i = 0; i < n; i++) body[i] += Math.sin((2 * Math.PI * h * f0 * i) / sampleRate + phase) / h;
    }
  } else if (kind === 'tones') {
    // A tune: notes of 150-350 ms (a pentatonic scale over 110-880 Hz, harmonics falling 6 dB
    // per octave) with a 10 ms attack and a decay, a 50-120 ms pause after every other note:
    // onsets, pitch changes and pauses at about the rate of syllables.
    const rng = makeRng(seed);
    const scale = [0, 2, 4, 7, 9];
    let i0 = 0;
    let k = 0;
    while (i0 < n) {
      const len = Math.round((0.15 + 0.2 * rng()) * sampleRate);
      const semis = 12 * Math.floor(rng() * 3) + scale[Math.floor(rng() * scale.length)];
      const f0 = 110 * Math.pow(2, semis / 12);
      const attack = 0.01 * sampleRate;
      for (let i = 0; i < len && i0 + i < n; i++) {
        const env = Math.min(1, i / attack) * Math.exp((-2.5 * i) / len) * Math.min(1, (len - i) / attack);
        let v = 0;
        for (let h = 1; h * f0 < sampleRate / 2 - 200; h++) v += Math.sin((2 * Math.PI * h * f0 * i) / sampleRate + h * 0.7) / h;
        body[i0 + i] = env * v;
      }
      i0 += len + (k++ % 2 === 1 ? Math.round((0.05 + 0.07 * rng()) * sampleRate) : 0);
    }
  } else {
    // Pink-ish noise: white noise through two one-pole low-passes mixed with the white.
    const rng = makeRng(seed);
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      const w = gaussian(rng);
      a = 0.97 * a + 0.03 * w;
      b = 0.7 * b + 0.3 * w;
      body[i] = 4 * a + b + 0.3 * w;
    }
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += body[i] ** 2;
  // The tune's pauses and decays are not its loudness: match it as the speech is measured.
  const scale = rms / (kind === 'tones' ? activeRms(body, sampleRate) : Math.sqrt(s / n));
  for (let i = 0; i < n; i++) out[pad + i] = body[i] * scale;
  return out;
}

export function loudnessCheck(g: LandmarkGenerator, speech: Float32Array, sampleRate: number): LoudnessReport {
  if (speech.length < sampleRate) throw new ConfigError('loudness.speech: expected at least 1 s of speech');
  const rms = activeRms(speech, sampleRate);
  if (!(rms > 0)) throw new ConfigError('loudness.speech: the speech is silent');
  const opening = (pcm: Float32Array, from: number, to: number): number => {
    const r = predictLandmarks(g, pcm, sampleRate);
    const o = lipOpening(r.landmarks, r.frames);
    return percentile95(Array.from(o.subarray(Math.max(0, from), Math.min(r.frames, to))));
  };
  // The speech's frames whose 40 ms are within 20 dB of its loudest.
  const n = Math.round(0.04 * sampleRate);
  const fr = Math.floor(speech.length / n);
  const energy: number[] = [];
  for (let f = 0; f < fr; f++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += speech[f * n + k] ** 2;
    energy.push(s / n);
  }
  const peak = Math.max(...energy);
  const pr = predictLandmarks(g, speech, sampleRate);
  const po = lipOpening(pr.landmarks, pr.frames);
  const voiced = energy.map((e, f) => (e >= peak / 100 && f < pr.frames ? po[f] : null)).filter((v): v is number => v !== null);
  const speechOpen = percentile95(voiced);
  const seconds = 2;
  const on = [Math.round(0.5 * 25), Math.round((0.5 + seconds) * 25)] as const;
  const hum = opening(testSound('hum', seconds, sampleRate, rms), on[0], on[1]);
  const noise = opening(testSound('noise', seconds, sampleRate, rms), on[0], on[1]);
  const tones = opening(testSound('tones', seconds, sampleRate, rms), on[0], on[1]);
  return { speech: speechOpen, hum, noise, tones, ratio: speechOpen > 0 ? Math.max(hum, noise) / speechOpen : Infinity };
}
