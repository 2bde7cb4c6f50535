/**
 * SVOX Pico as a female synthesiser for the corpus, run as an external program: the PyPI
 * package `py-nanotts` (Apache-2.0; its wheel carries Pico's en-US "lh0" and en-GB "kh0"
 * female voices, the Android Open Source Project's Apache-2.0 lingware) driven through its
 * own command line (`python3 -m py_nanotts`). Nothing of it ships. A female voice unlike
 * eSpeak NG's formant voices is what the worst held-out row (festival-slt) lacked among the
 * training voices. Phone times come from forced alignment, like Flite's and the real speech.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError } from '../../worker/errors.ts';
import { makeRng } from '../../worker/landmarks/model.ts';
import { trainUtterances } from './sentences.ts';
import type { AlignJob } from '../make-aligned-corpus.ts';

export const PICO_VOICES = ['en-US', 'en-GB'] as const;
/**
 * Pico reads the training sentence stream from here on, so that it says other sentences than
 * the eSpeak NG corpus (first 600) and Flite (first 200) of the same seed; the stream's first
 * 20,000 utterances are the ones the held-out sentences are checked against.
 */
export const PICO_STREAM_OFFSET = 2000;
const MAX_COUNT = 5000;

export interface PicoUtterance {
  text: string;
  voice: (typeof PICO_VOICES)[number];
  /** Pico's speed and pitch multipliers, as passed on its command line */
  speed: string;
  pitch: string;
}

/**
 * The utterances a Pico corpus of `seed` reads: training sentences from PICO_STREAM_OFFSET on,
 * each with a random voice, speed (x0.8-1.25) and pitch (x0.8-1.25 of the voice's own).
 */
export function picoPlan(seed: number, count: number): PicoUtterance[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new ConfigError(`--count: expected an integer in [1, ${MAX_COUNT}], got ${count}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) throw new ConfigError(`--seed: expected an integer in [0, 2^31-1], got ${seed}`);
  const texts = trainUtterances(seed, PICO_STREAM_OFFSET + count).slice(PICO_STREAM_OFFSET);
  const rng = makeRng(seed ^ 0x51c0);
  return texts.map((text) => ({
    text,
    voice: PICO_VOICES[Math.floor(rng() * PICO_VOICES.length)],
    speed: (0.8 + 0.45 * rng()).toFixed(3),
    pitch: (0.8 + 0.45 * rng()).toFixed(3),
  }));
}

/** Synthesises picoPlan(seed, count) into `dir`; returns the align jobs (source `svox-pico`). */
export function picoJobs(dir: string, seed: number, count: number, python = process.env.PYTHON ?? 'python3'): AlignJob[] {
  const plan = picoPlan(seed, count);
  const probe = spawnSync(python, ['-c', 'import py_nanotts'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new ConfigError(`svox-pico: ${python} cannot import py_nanotts (pip install py-nanotts==0.1.1)`);
  return plan.map(({ text, voice, speed, pitch }, i) => {
    const audio = path.join(dir, `pico-${String(i).padStart(5, '0')}.wav`);
    const r = spawnSync(python, ['-m', 'py_nanotts', '-o', audio, '-v', voice, '--speed', speed, '--pitch', pitch, '--', text], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new ConfigError(`svox-pico: failed on utterance ${i} (exit ${r.status}): ${r.stderr}`);
    return { source: 'svox-pico', audio, text };
  });
}
