/**
 * The (audio, landmark track) pairs a person-specific generator trains on: from `.npy` tracks
 * (`r2talker train-generator --landmarks`) or straight from a prepared subject (aud.wav and
 * the per-frame idexp condition), so the create page trains on exactly what the command line
 * would be given. Platform-free: no file system, only bytes and SubjectFiles.
 */
import { FormatError } from '../worker/errors.ts';
import { readNpy } from '../worker/io/npy.ts';
import { readWav } from '../worker/io/wav.ts';
import { LANDMARK_DIM, LANDMARK_FPS, NUM_LANDMARKS } from '../worker/landmarks/model.ts';
import type { SubjectFiles } from '../worker/subject/files.ts';
import { SUBJECT_PATHS } from '../worker/subject/layout.ts';
import type { Subject } from '../worker/subject/reader.ts';
import type { TrainingPair } from './train-generator.ts';

/** A landmark track [T,68,3] (or [T,204]) of float32/float64 as float32 rows. */
export function trackFromNpy(bytes: Uint8Array): { frames: number; landmarks: Float32Array } {
  const arr = readNpy(bytes);
  const s = arr.shape;
  const ok = (s.length === 3 && s[1] === NUM_LANDMARKS && s[2] === 3) || (s.length === 2 && s[1] === LANDMARK_DIM);
  if (!ok) throw FormatError.expected('INPUT_FORMAT', 'landmarks.shape', `[T, ${NUM_LANDMARKS}, 3]`, `[${s.join(', ')}]`);
  if (arr.dtype !== 'float32' && arr.dtype !== 'float64') throw FormatError.expected('INPUT_FORMAT', 'landmarks.dtype', 'float32 or float64', arr.dtype);
  const landmarks = Float32Array.from(arr.data as Float32Array | Float64Array);
  for (let i = 0; i < landmarks.length; i++) {
    if (!Number.isFinite(landmarks[i])) throw FormatError.expected('INPUT_FORMAT', `landmarks[${Math.floor(i / LANDMARK_DIM)}]`, 'finite values', String(landmarks[i]));
  }
  return { frames: s[0], landmarks };
}

/** Shortest stretch of consecutive frames worth a pair (below a second a segment sees mostly padding). */
export const MIN_RUN_FRAMES = 25;

/**
 * A subject's training pairs. A subject with every frame kept has aud_idexp.npy: one pair, the
 * same `train-generator --audio aud.wav --landmarks aud_idexp.npy` reads. A recording whose
 * preparation dropped frames (no face, blur) has gaps in its audio ids: each run of at least
 * MIN_RUN_FRAMES consecutive frames becomes a pair with its stretch of the audio.
 */
export async function subjectPairs(files: SubjectFiles, subject: Subject): Promise<TrainingPair[]> {
  const wavBytes = await files.read(SUBJECT_PATHS.audio);
  if (!wavBytes) throw FormatError.input(`${files.root}/${SUBJECT_PATHS.audio}`, 'missing: the voice-to-face model trains on the recording\u2019s sound');
  const wav = readWav(wavBytes);
  const pcm = wav.samples;
  const whole = await files.read(SUBJECT_PATHS.conditionAll);
  if (whole) {
    const t = trackFromNpy(whole);
    return [{ pcm, sampleRate: wav.sampleRate, landmarks: t.landmarks, frames: t.frames }];
  }
  const byAud = new Map<number, Float32Array>();
  for (const split of Object.values(subject.splits)) for (const f of split?.frames ?? []) byAud.set(f.audId, f.condition);
  const ids = [...byAud.keys()].sort((a, b) => a - b);
  const perFrame = wav.sampleRate / LANDMARK_FPS;
  const pairs: TrainingPair[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i + 1;
    while (j < ids.length && ids[j] === ids[j - 1] + 1) j++;
    const first = ids[i];
    const frames = j - i;
    const from = Math.round(first * perFrame);
    if (frames >= MIN_RUN_FRAMES && from < pcm.length) {
      const landmarks = new Float32Array(frames * LANDMARK_DIM);
      for (let k = 0; k < frames; k++) landmarks.set(byAud.get(first + k)!, k * LANDMARK_DIM);
      pairs.push({ pcm: pcm.subarray(from, Math.min(pcm.length, Math.round((first + frames) * perFrame))), sampleRate: wav.sampleRate, landmarks, frames });
    }
    i = j;
  }
  if (pairs.length === 0) throw FormatError.input(`${files.root}`, `no stretch of ${MIN_RUN_FRAMES} consecutive frames with a face and sound: the voice-to-face model has nothing to learn from`);
  return pairs;
}
