/**
 * Phonemes (eSpeak NG IPA names with timings) -> articulation per 25 fps frame, with
 * co-articulation by dominance blending (Cohen & Massaro 1993): every segment pulls each
 * articulation parameter towards its target with a weight that is flat inside the segment
 * and falls off as a Gaussian of the distance to it. Segments that need a lip gesture
 * (m/b/p closure, f/v tuck, rounding) dominate those parameters strongly, so they are
 * reached even in fast speech, while weak segments (t, d, k, h, schwa) take the shape of
 * their neighbours. Pauses are segments whose target is the rest pose.
 */
import { ConfigError } from '../../worker/errors.ts';
import { LANDMARK_DIM, LANDMARK_FPS } from '../../worker/landmarks/model.ts';
import { ARTICULATION_KEYS, REST, articulate, type Articulation } from './template-face.ts';

export interface TimedPhoneme {
  /** eSpeak's IPA name ('' for a pause) */
  id: string;
  /** seconds */
  start: number;
  end: number;
}

export type VisemeClass =
  | 'rest' | 'bilabial' | 'labiodental' | 'open' | 'mid' | 'schwa' | 'front' | 'rounded' | 'back-round'
  | 'dental' | 'alveolar' | 'postalveolar' | 'velar' | 'rhotic' | 'glottal';

interface Viseme {
  target: Articulation;
  /** dominance per parameter (default `base`) */
  base: number;
  strong?: Partial<Record<keyof Articulation, number>>;
}

const v = (jaw: number, open: number, width: number, round: number, tuck = 0, seal = 0): Articulation => ({ jaw, open, width, round, tuck, seal });

export const VISEMES: Record<VisemeClass, Viseme> = {
  rest: { target: REST, base: 1.5 },
  bilabial: { target: v(0.15, 0, 0, 0, 0, 1), base: 1, strong: { seal: 12, open: 4, tuck: 4 } },
  labiodental: { target: v(0.1, 0, 0.1, 0, 1), base: 1, strong: { tuck: 8, open: 4, seal: 4 } },
  open: { target: v(0.9, 0.6, 0.2, 0), base: 1.2 },
  mid: { target: v(0.45, 0.4, 0.3, 0), base: 1 },
  schwa: { target: v(0.35, 0.3, 0, 0), base: 0.5 },
  front: { target: v(0.15, 0.25, 0.8, 0), base: 1, strong: { width: 2 } },
  rounded: { target: v(0.15, 0.15, -0.6, 1), base: 1, strong: { round: 3, width: 2 } },
  'back-round': { target: v(0.55, 0.45, -0.4, 0.7), base: 1, strong: { round: 2 } },
  dental: { target: v(0.15, 0.25, 0.1, 0), base: 0.8 },
  alveolar: { target: v(0.15, 0.15, 0.2, 0), base: 0.6 },
  postalveolar: { target: v(0.15, 0.2, -0.3, 0.6), base: 0.8, strong: { round: 1.5 } },
  velar: { target: v(0.3, 0.25, 0.1, 0), base: 0.5 },
  rhotic: { target: v(0.2, 0.2, -0.2, 0.4), base: 0.7 },
  glottal: { target: v(0.3, 0.3, 0, 0), base: 0.2 },
};

/** Fall-off of dominance outside a segment, seconds (about 1.5 frames). */
export const DOMINANCE_SPREAD = 0.06;

// Longest names first so that 'tʃ' wins over 't'.
const SYMBOLS: [string, VisemeClass][] = [
  ['tʃ', 'postalveolar'], ['dʒ', 'postalveolar'],
  ['m', 'bilabial'], ['b', 'bilabial'], ['p', 'bilabial'], ['ɱ', 'labiodental'],
  ['f', 'labiodental'], ['v', 'labiodental'],
  ['w', 'rounded'], ['ʍ', 'rounded'], ['u', 'rounded'], ['ʊ', 'rounded'], ['ɵ', 'rounded'], ['y', 'rounded'],
  ['o', 'back-round'], ['ɔ', 'back-round'], ['ɒ', 'back-round'],
  ['a', 'open'], ['ɑ', 'open'], ['æ', 'open'], ['ɐ', 'open'], ['ʌ', 'open'], ['ɶ', 'open'],
  ['e', 'mid'], ['ɛ', 'mid'], ['ɜ', 'mid'], ['ɝ', 'mid'], ['ɚ', 'schwa'], ['ə', 'schwa'], ['ᵻ', 'schwa'],
  ['i', 'front'], ['ɪ', 'front'], ['j', 'front'],
  ['θ', 'dental'], ['ð', 'dental'],
  ['t', 'alveolar'], ['d', 'alveolar'], ['n', 'alveolar'], ['l', 'alveolar'], ['s', 'alveolar'], ['z', 'alveolar'], ['ɾ', 'alveolar'], ['ɬ', 'alveolar'], ['ʔ', 'glottal'],
  ['ʃ', 'postalveolar'], ['ʒ', 'postalveolar'],
  ['k', 'velar'], ['g', 'velar'], ['ɡ', 'velar'], ['ŋ', 'velar'], ['x', 'velar'], ['ç', 'velar'],
  ['r', 'rhotic'], ['ɹ', 'rhotic'], ['ɻ', 'rhotic'], ['ʁ', 'rhotic'],
  ['h', 'glottal'],
];

/** Splits an eSpeak phoneme name into viseme classes (a diphthong gives two). */
export function visemeClasses(id: string): VisemeClass[] {
  // Stress, length and diacritics do not change the mouth shape class.
  const s = id.normalize('NFD').replace(/[ˈˌːˑ\u0300-\u036f\-_#'",.]/g, '');
  if (s.length === 0) return ['rest'];
  const out: VisemeClass[] = [];
  let i = 0;
  while (i < s.length && out.length < 3) {
    const hit = SYMBOLS.find(([sym]) => s.startsWith(sym, i));
    if (hit) {
      if (out[out.length - 1] !== hit[1] || hit[0].length > 1) out.push(hit[1]);
      i += hit[0].length;
    } else i++;
  }
  return out.length > 0 ? out : ['schwa'];
}

interface Segment {
  cls: VisemeClass;
  start: number;
  end: number;
}

/** Timed phonemes -> viseme segments (diphthongs split 60/40), validated and ordered. */
export function visemeSegments(phonemes: TimedPhoneme[]): Segment[] {
  const out: Segment[] = [];
  let last = -Infinity;
  phonemes.forEach((p, i) => {
    if (!Number.isFinite(p.start) || !Number.isFinite(p.end) || p.end < p.start || p.start < last - 1e-6) {
      throw new ConfigError(`phonemes[${i}]: expected ordered finite times with end >= start, got ${p.start}..${p.end}`);
    }
    last = p.start;
    const cls = visemeClasses(p.id);
    if (cls.length === 1) out.push({ cls: cls[0], start: p.start, end: p.end });
    else {
      const mid = p.start + 0.6 * (p.end - p.start);
      const step = (p.end - mid) / (cls.length - 1);
      out.push({ cls: cls[0], start: p.start, end: mid });
      for (let k = 1; k < cls.length; k++) out.push({ cls: cls[k], start: mid + (k - 1) * step, end: mid + k * step });
    }
  });
  return out;
}

function dominance(seg: Segment, key: keyof Articulation, t: number): number {
  const vis = VISEMES[seg.cls];
  const alpha = vis.strong?.[key] ?? vis.base;
  const dist = t < seg.start ? seg.start - t : t > seg.end ? t - seg.end : 0;
  return alpha * Math.exp(-((dist / DOMINANCE_SPREAD) ** 2));
}

/** The blended articulation at time `t` (seconds); before, between and after segments: rest. */
export function articulationAt(segments: Segment[], t: number): Articulation {
  const a: Articulation = { ...REST };
  // A virtual rest segment everywhere, weak, so that far from any phoneme the face rests.
  const restWeight = 0.05;
  for (const key of ARTICULATION_KEYS) {
    let num = 0;
    let den = restWeight;
    for (const seg of segments) {
      if (seg.end < t - 4 * DOMINANCE_SPREAD || seg.start > t + 4 * DOMINANCE_SPREAD) continue;
      const d = dominance(seg, key, t);
      num += d * VISEMES[seg.cls].target[key];
      den += d;
    }
    a[key] = num / den;
  }
  return a;
}

/** Limit on track length (10 minutes at 25 fps) so a bad input cannot force a huge allocation. */
export const MAX_TRACK_FRAMES = 15_000;

/**
 * The landmark track [frames][204] (offsets from the neutral template face) for phonemes
 * timed in seconds from the start of the audio; frame t is the face at 40t ms.
 */
export function phonemesToTrack(phonemes: TimedPhoneme[], frames: number): { landmarks: Float32Array; articulation: Articulation[] } {
  if (!Number.isInteger(frames) || frames < 0 || frames > MAX_TRACK_FRAMES) throw new ConfigError(`track.frames: expected an integer in [0, ${MAX_TRACK_FRAMES}], got ${frames}`);
  const segments = visemeSegments(phonemes);
  const landmarks = new Float32Array(frames * LANDMARK_DIM);
  const articulation: Articulation[] = [];
  for (let f = 0; f < frames; f++) {
    const a = articulationAt(segments, f / LANDMARK_FPS);
    articulation.push(a);
    articulate(a, landmarks, f * LANDMARK_DIM);
  }
  return { landmarks, articulation };
}

/** Frames at the centre of each bilabial closure (one per m, b or p). */
export function closureFrames(phonemes: TimedPhoneme[], frames: number): number[] {
  const out: number[] = [];
  for (const seg of visemeSegments(phonemes)) {
    if (seg.cls !== 'bilabial') continue;
    const f = Math.round(((seg.start + seg.end) / 2) * LANDMARK_FPS);
    if (f >= 0 && f < frames) out.push(f);
  }
  return out;
}

/**
 * Frames in silence: at least `margin` seconds from any non-pause phoneme, so neither the
 * co-articulation nor the generator's audio window reaches speech.
 */
export function silenceFrames(phonemes: TimedPhoneme[], frames: number, margin = 0.3): number[] {
  const speech = visemeSegments(phonemes).filter((s) => s.cls !== 'rest');
  const out: number[] = [];
  for (let f = 0; f < frames; f++) {
    const t = f / LANDMARK_FPS;
    if (speech.every((s) => t < s.start - margin || t > s.end + margin)) out.push(f);
  }
  return out;
}
