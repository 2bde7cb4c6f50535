/**
 * CMU Flite (Debian `flite`, BSD-style licence) as a second synthesiser for the corpus, run as
 * an external program: its diphone voices kal and kal16 sound nothing like eSpeak NG's formant
 * voices, which is the variety the generator needs. Flite's awb, rms and slt voices are built
 * from CMU ARCTIC speakers whose recordings are reserved for held-out evaluation, so they are
 * never used. Phone times come from forced alignment, like the real recordings.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError } from '../../worker/errors.ts';
import { makeRng } from '../../worker/landmarks/model.ts';
import { trainUtterances } from './sentences.ts';
import type { AlignJob } from '../make-aligned-corpus.ts';

export const FLITE_VOICES = ['kal', 'kal16'] as const;

/**
 * Synthesises `count` training utterances (the training sentence stream of `seed`, so none is
 * a held-out sentence) into `dir` with random voice, speed and pitch; returns the align jobs.
 */
export function fliteJobs(dir: string, seed: number, count: number): AlignJob[] {
  const probe = spawnSync('flite', ['-lv'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new ConfigError('flite: not installed (apt-get install flite)');
  const texts = trainUtterances(seed, count);
  const rng = makeRng(seed ^ 0xf117e);
  return texts.map((text, i) => {
    const voice = FLITE_VOICES[Math.floor(rng() * FLITE_VOICES.length)];
    const stretch = (0.8 + 0.45 * rng()).toFixed(3);
    const f0 = Math.round(85 + 90 * rng());
    const audio = path.join(dir, `flite-${String(i).padStart(5, '0')}.wav`);
    const r = spawnSync('flite', ['-voice', voice, '--setf', `duration_stretch=${stretch}`, '--setf', `int_f0_target_mean=${f0}`, '-t', text, '-o', audio], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new ConfigError(`flite: failed on utterance ${i} (exit ${r.status}): ${r.stderr}`);
    return { source: 'flite-kal', audio, text };
  });
}
