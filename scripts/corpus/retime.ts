/**
 * Moves a corpus clip's phoneme labels in time and rebuilds its targets from them.
 *
 * Why: the label clocks of our sources disagree. For b and p (whose lip seal is an acoustic
 * silence) the least-energy 10 ms frame sits 0-8 ms before the labelled centre in every
 * PocketSphinx-aligned source (asterisk, flite, festival), but ~30 ms before it in eSpeak NG's
 * corpus, and speech energy rises ~3 ms after eSpeak's first label against 40-50 ms after the
 * aligner's (scripts/corpus/closure-acoustics.ts): eSpeak NG's phoneme events arrive about
 * 30 ms late. Mixed in training, the same sound asks for the lips sealed at two times, and an
 * MSE model hedges with half-open lips. Shifting one source's labels onto the others' clock
 * before the targets are built removes the conflict.
 */
import { ConfigError } from '../../worker/errors.ts';
import { closureFrames, phonemesToTrack, type TimedPhoneme } from './visemes.ts';

/** Bound on a label shift: more than this is not clock skew but a broken corpus. */
export const MAX_SHIFT_S = 0.2;

/**
 * Phonemes moved by `shift` seconds within [0, duration]: the leading and trailing pauses
 * stretch or shrink so that the clip still covers its whole audio.
 */
export function retimePhonemes(phonemes: readonly TimedPhoneme[], shift: number, duration: number): TimedPhoneme[] {
  if (!(Math.abs(shift) <= MAX_SHIFT_S)) throw new ConfigError(`retime.shift: expected -${MAX_SHIFT_S}..${MAX_SHIFT_S} s, got ${shift}`);
  if (!(duration > 0)) throw new ConfigError(`retime.duration: expected > 0 s, got ${duration}`);
  const clamp = (t: number) => Math.min(duration, Math.max(0, t));
  const out = phonemes.map((p) => ({ id: p.id, start: clamp(p.start + shift), end: clamp(p.end + shift) }));
  if (out.length > 0) {
    out[0].start = 0;
    out[out.length - 1].end = Math.max(out[out.length - 1].end, duration);
  }
  // Phonemes pushed past either end keep zero length rather than go: eSpeak NG itself emits
  // zero-length events, and the viseme rules accept them, so the track stays what they make.
  return out;
}

/** A clip's landmark track [frames][204] and closure frames from labels moved by `shift` seconds. */
export function retimedTargets(phonemes: readonly TimedPhoneme[], shift: number, frames: number, duration: number): { landmarks: Float32Array; closureFrames: number[] } {
  const moved = retimePhonemes(phonemes, shift, duration);
  return { landmarks: phonemesToTrack(moved, frames).landmarks, closureFrames: closureFrames(moved, frames) };
}
