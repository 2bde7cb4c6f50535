/**
 * Trains the shipped default generator on a corpus made by scripts/make-corpus.ts and
 * writes it as ONNX:
 *   npx tsx scripts/corpus/train-default.ts --corpus <dir> --out assets/generator/default.onnx
 *     [--epochs N] [--channels N] [--seed N] [--max-steps N]
 * Uses the project's trainer (trainer/train-generator.ts) in template space.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { trainGenerator, type TrainingPair } from '../../trainer/train-generator.ts';
import { trackFromNpy } from '../../cli/commands/train-generator.ts';
import type { CorpusManifest } from '../make-corpus.ts';

export async function loadCorpus(dir: string): Promise<{ manifest: CorpusManifest; pairs: TrainingPair[] }> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as CorpusManifest;
  if (manifest.kind !== 'r2talker-speech-corpus') throw new ConfigError(`${dir}/manifest.json: expected kind r2talker-speech-corpus, got ${JSON.stringify(manifest.kind)}`);
  const pairs: TrainingPair[] = [];
  for (const c of manifest.clips) {
    const wav = readWav(new Uint8Array(await readFile(path.join(dir, c.wav))));
    const t = trackFromNpy(new Uint8Array(await readFile(path.join(dir, c.landmarks))));
    pairs.push({ pcm: wav.samples, sampleRate: wav.sampleRate, landmarks: t.landmarks, frames: t.frames });
  }
  return { manifest, pairs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string', default: '20' },
      channels: { type: 'string', default: '128' },
      seed: { type: 'string', default: '1' },
      'max-steps': { type: 'string' },
      batch: { type: 'string', default: '4' },
      lr: { type: 'string', default: '0.001' },
    },
  });
  if (!values.corpus || !values.out) throw new ConfigError('--corpus and --out: expected the corpus folder and the output .onnx');
  const t0 = Date.now();
  const { manifest, pairs } = await loadCorpus(values.corpus);
  const frames = pairs.reduce((a, p) => a + p.frames, 0);
  process.stderr.write(`loaded ${pairs.length} clips, ${frames} frames in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  let last = Date.now();
  const t1 = Date.now();
  const r = trainGenerator(pairs, {
    epochs: Number(values.epochs),
    channels: Number(values.channels),
    seed: Number(values.seed),
    batch: Number(values.batch),
    lr: Number(values.lr),
    maxSteps: values['max-steps'] ? Number(values['max-steps']) : Number.POSITIVE_INFINITY,
    space: 'template',
    onProgress: (p) => {
      if (Date.now() - last > 30_000 || p.step === p.steps) {
        last = Date.now();
        process.stderr.write(`step ${p.step}/${p.steps} epoch ${p.epoch + 1} loss ${p.loss.toFixed(4)} ${((Date.now() - t1) / 1000).toFixed(0)} s\n`);
      }
    },
  });
  const seconds = (Date.now() - t1) / 1000;
  const onnx = generatorToOnnx(r.generator, {
    source: 'scripts/corpus/train-default.ts',
    corpusSeed: String(manifest.seed),
    corpusClips: String(pairs.length),
    corpusFrames: String(frames),
    epochs: String(values.epochs),
    steps: String(r.steps),
    trainLoss: r.trainLoss.toFixed(5),
    validationLoss: r.validationLoss === null ? 'none' : r.validationLoss.toFixed(5),
  });
  await writeFile(values.out, onnx);
  process.stdout.write(`wrote ${values.out} (${onnx.length} bytes): ${r.steps} steps in ${seconds.toFixed(0)} s, train loss ${r.trainLoss.toFixed(4)}, validation loss ${r.validationLoss?.toFixed(4) ?? 'n/a'}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`train-default: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
