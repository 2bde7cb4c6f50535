/**
 * Loads corpora (scripts/make-corpus.ts and scripts/make-aligned-corpus.ts folders) as training
 * pairs, grouped by each clip's `source` so that leave-one-out training can drop one voice.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../worker/errors.ts';
import { readWav } from '../worker/io/wav.ts';
import { trackFromNpy } from './generator-pairs.ts';
import type { TrainingPair } from './train-generator.ts';

/** A clip's leave-one-out group; corpora made before clips named one are eSpeak NG's. */
export const clipSource = (c: { source?: unknown }): string => (typeof c.source === 'string' && c.source.length > 0 ? c.source : 'espeak-ng');

export interface LoadedCorpus {
  seed: number;
  pairs: TrainingPair[];
  /** each pair's source */
  pairSources: string[];
  /** each pair's phoneme labels as the manifest gives them (null when it has none) */
  pairPhonemes: ({ id: string; start: number; end: number }[] | null)[];
  /** clips per source */
  sources: Map<string, number>;
}

/** Bound on one manifest (clips), so that a corrupt file cannot ask for millions of reads. */
const MAX_CLIPS = 20_000;

export async function loadCorpus(dir: string, exclude: Set<string> = new Set(), only: Set<string> | null = null): Promise<LoadedCorpus> {
  const file = path.join(dir, 'manifest.json');
  let manifest: { kind?: unknown; seed?: unknown; split?: unknown; clips?: unknown };
  try {
    manifest = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the corpus manifest (${(e as Error).message})`);
  }
  if (manifest?.kind !== 'r2talker-speech-corpus') throw new ConfigError(`${file}: expected kind r2talker-speech-corpus, got ${JSON.stringify(manifest?.kind)}`);
  // Evaluation hygiene: held-out voices only ever measure a generator.
  if (manifest.split === 'heldout') throw new ConfigError(`${file}: this is a held-out (evaluation) corpus; never train on it`);
  if (!Array.isArray(manifest.clips) || manifest.clips.length > MAX_CLIPS) throw new ConfigError(`${file}: expected clips as a list of at most ${MAX_CLIPS}`);
  const pairs: TrainingPair[] = [];
  const pairSources: string[] = [];
  const sources = new Map<string, number>();
  const pairPhonemes: LoadedCorpus['pairPhonemes'] = [];
  for (const [i, c] of (manifest.clips as { wav?: unknown; landmarks?: unknown; source?: unknown; closureFrames?: unknown; phonemes?: unknown }[]).entries()) {
    const src = clipSource(c);
    if (exclude.has(src) || (only && !only.has(src))) continue;
    const plain = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && !s.includes('/') && !s.includes('\\') && s !== '..';
    if (!plain(c.wav) || !plain(c.landmarks)) throw new ConfigError(`${file}: clips[${i}]: expected wav and landmarks file names inside the corpus folder`);
    sources.set(src, (sources.get(src) ?? 0) + 1);
    const wav = readWav(new Uint8Array(await readFile(path.join(dir, c.wav))));
    const t = trackFromNpy(new Uint8Array(await readFile(path.join(dir, c.landmarks))));
    const closures = c.closureFrames;
    if (closures !== undefined && !(Array.isArray(closures) && closures.every((f) => Number.isInteger(f) && f >= 0 && f < t.frames))) {
      throw new ConfigError(`${file}: clips[${i}].closureFrames: expected frame indices in 0..${t.frames - 1}`);
    }
    pairs.push({ pcm: wav.samples, sampleRate: wav.sampleRate, landmarks: t.landmarks, frames: t.frames, closureFrames: closures as number[] | undefined });
    pairSources.push(src);
    const ph = c.phonemes;
    const phoneOk = (p: unknown) => typeof (p as { id?: unknown }).id === 'string' && Number.isFinite((p as { start?: unknown }).start) && Number.isFinite((p as { end?: unknown }).end);
    if (ph !== undefined && !(Array.isArray(ph) && ph.every(phoneOk))) throw new ConfigError(`${file}: clips[${i}].phonemes: expected a list of {id, start, end}`);
    pairPhonemes.push((ph as { id: string; start: number; end: number }[] | undefined) ?? null);
  }
  return { seed: Number(manifest.seed ?? 0), pairs, pairSources, pairPhonemes, sources };
}

/** Several corpora as one list of pairs. */
export async function loadCorpora(dirs: string[], exclude: Set<string> = new Set(), only: Set<string> | null = null): Promise<LoadedCorpus & { seeds: number[] }> {
  const pairs: TrainingPair[] = [];
  const pairSources: string[] = [];
  const pairPhonemes: LoadedCorpus['pairPhonemes'] = [];
  const sources = new Map<string, number>();
  const seeds: number[] = [];
  for (const dir of dirs) {
    const c = await loadCorpus(dir, exclude, only);
    pairs.push(...c.pairs);
    pairSources.push(...c.pairSources);
    pairPhonemes.push(...c.pairPhonemes);
    seeds.push(c.seed);
    for (const [k, v] of c.sources) sources.set(k, (sources.get(k) ?? 0) + v);
  }
  return { seed: seeds[0] ?? 0, seeds, pairs, pairSources, pairPhonemes, sources };
}
