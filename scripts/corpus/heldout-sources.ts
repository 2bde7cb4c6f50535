/**
 * The reserved held-out voices (BRIEF.md's evaluation hygiene): made into aligned corpora
 * whose manifests say split "heldout", which the trainer refuses to load. Never train or tune
 * on them; they only measure.
 *  - festival-ked, festival-slt: Festival (Debian `festival`, `festvox-kdlpc16k`,
 *    `festvox-us-slt-hts`; external programs) reading the held-out sentence stream. Festival's
 *    kal voice is left out: Flite's kal, a training source, is the same speaker.
 *  - librivox: the LibriVox clips in PocketSphinx's test data (one male audiobook reader) with
 *    their transcripts.
 */
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../worker/errors.ts';
import { makeRng } from '../../worker/landmarks/model.ts';
import { heldoutUtterances } from './sentences.ts';
import type { AlignJob } from '../make-aligned-corpus.ts';

export const FESTIVAL_VOICES: Record<string, string> = {
  'festival-ked': 'voice_ked_diphone',
  'festival-slt': 'voice_cmu_us_slt_arctic_hts',
};

/** `count` held-out utterances per Festival voice, synthesised into `dir`. */
export function festivalJobs(dir: string, seed: number, count: number): AlignJob[] {
  if (spawnSync('text2wave', ['-h'], { encoding: 'utf8' }).error) throw new ConfigError('festival: text2wave not found (apt-get install festival festvox-kdlpc16k festvox-us-slt-hts)');
  const texts = heldoutUtterances(seed, count * Object.keys(FESTIVAL_VOICES).length);
  const rng = makeRng(seed ^ 0xfe57);
  const jobs: AlignJob[] = [];
  Object.entries(FESTIVAL_VOICES).forEach(([source, voice], v) => {
    for (let i = 0; i < count; i++) {
      const text = texts[v * count + i];
      const audio = path.join(dir, `${source}-${String(i).padStart(4, '0')}.wav`);
      // Speed varies as in the other corpora: Festival's duration stretch 0.85-1.2.
      const stretch = (0.85 + 0.35 * rng()).toFixed(3);
      const r = spawnSync('text2wave', ['-o', audio, '-eval', `(${voice})`, '-eval', `(Parameter.set 'Duration_Stretch ${stretch})`], { input: text, encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new ConfigError(`festival: ${voice} failed on utterance ${i} (exit ${r.status}): ${r.stderr}`);
      jobs.push({ source, audio, text });
    }
  });
  return jobs;
}

/** PocketSphinx's LibriVox test clips (unpacked source distribution at `root`). */
export async function librivoxJobs(root: string): Promise<AlignJob[]> {
  const d = path.join(root, 'test/data/librivox');
  const names = (await readdir(d)).filter((n) => n.endsWith('.wav')).sort();
  if (names.length === 0) throw new ConfigError(`${d}: no LibriVox clips (expected the pocketsphinx source distribution)`);
  return Promise.all(names.map(async (n) => ({ source: 'librivox', audio: path.join(d, n), text: (await readFile(path.join(d, n.replace(/\.wav$/, '.txt')), 'utf8')).trim() })));
}
