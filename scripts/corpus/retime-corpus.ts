/**
 * Writes a copy of a corpus whose labels (and so its targets, closure and silence frames) are
 * moved by a fixed time, for measuring generators against a corrected label clock:
 *   npx tsx scripts/corpus/retime-corpus.ts --corpus <dir> --shift=-0.03 --out <dir>
 * The audio is copied unchanged; the manifest keeps its split (a held-out corpus stays one,
 * and trainers still refuse it) and records the shift. See retime.ts for why.
 */
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { writeNpy } from '../../worker/io/npy.ts';
import { NUM_LANDMARKS } from '../../worker/landmarks/model.ts';
import { trackFromNpy } from '../../trainer/generator-pairs.ts';
import { retimedTargets, retimePhonemes } from './retime.ts';
import { silenceFrames, type TimedPhoneme } from './visemes.ts';

interface Clip {
  id: string;
  wav: string;
  landmarks: string;
  phonemes?: TimedPhoneme[];
  closureFrames?: number[];
  silenceFrames?: number[];
  [k: string]: unknown;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { corpus: { type: 'string' }, shift: { type: 'string' }, out: { type: 'string' } } });
  if (!values.corpus || !values.out || values.shift === undefined) throw new ConfigError('--corpus, --shift and --out: expected the corpus folder, seconds, and a new folder');
  const shift = Number(values.shift);
  if (path.resolve(values.corpus) === path.resolve(values.out)) throw new ConfigError('--out: expected a folder other than --corpus (the original labels are kept)');
  const manifest = JSON.parse(await readFile(path.join(values.corpus, 'manifest.json'), 'utf8')) as { kind?: string; clips?: Clip[]; [k: string]: unknown };
  if (manifest.kind !== 'r2talker-speech-corpus' || !Array.isArray(manifest.clips)) throw new ConfigError(`${values.corpus}/manifest.json: expected an r2talker-speech-corpus manifest`);
  await mkdir(values.out, { recursive: true });
  const clips: Clip[] = [];
  for (const [i, c] of manifest.clips.entries()) {
    const plain = (s: unknown) => typeof s === 'string' && s.length > 0 && !s.includes('/') && !s.includes('\\') && s !== '..';
    if (!plain(c.wav) || !plain(c.landmarks)) throw new ConfigError(`${values.corpus}/manifest.json: clips[${i}]: expected wav and landmarks file names inside the folder`);
    if (!Array.isArray(c.phonemes)) throw new ConfigError(`${values.corpus}/manifest.json: clips[${i}]: no phoneme labels to move`);
    const wav = readWav(new Uint8Array(await readFile(path.join(values.corpus, c.wav))));
    const frames = trackFromNpy(new Uint8Array(await readFile(path.join(values.corpus, c.landmarks)))).frames;
    const duration = wav.samples.length / wav.sampleRate;
    const moved = retimePhonemes(c.phonemes, shift, duration);
    const t = retimedTargets(c.phonemes, shift, frames, duration);
    await copyFile(path.join(values.corpus, c.wav), path.join(values.out, c.wav));
    await writeFile(path.join(values.out, c.landmarks), writeNpy({ dtype: 'float32', shape: [frames, NUM_LANDMARKS, 3], data: t.landmarks }));
    clips.push({ ...c, phonemes: moved, closureFrames: t.closureFrames, silenceFrames: silenceFrames(moved, frames) });
  }
  const tmp = path.join(values.out, 'manifest.json.partial');
  await writeFile(tmp, JSON.stringify({ ...manifest, retimedFrom: path.resolve(values.corpus), retimeShift: shift, clips }, null, 1));
  await rename(tmp, path.join(values.out, 'manifest.json'));
  process.stdout.write(`wrote ${clips.length} clips to ${values.out} with labels moved ${shift * 1000} ms\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`retime-corpus: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
