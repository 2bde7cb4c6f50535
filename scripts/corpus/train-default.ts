/**
 * Trains the shipped default generator on corpora made by scripts/make-corpus.ts and
 * scripts/make-aligned-corpus.ts and writes it as ONNX:
 *   npx tsx scripts/corpus/train-default.ts --corpus <dir>[,<dir>...] --out assets/generator/default.onnx
 *     [--epochs N] [--channels N] [--seed N] [--max-steps N] [--augment] [--speed 0.15] [--gain-db 10] [--non-speech 0.08] [--quiet-room 0.1] [--tones 0.05]
 *     [--augment-probability 0.7] [--min-snr 10] [--warp 0.12] [--mouth-weight 2]   (--warp: VTLP mel-axis warp half-range, 0..0.3)
 *     [--init <onnx>]   (fine-tune that generator: keeps its architecture and normalisation)
 *     [--exclude-source <name>[,<name>]]   (leave-one-out: train without these sources)
 *     [--closure-weight 1] [--closure-radius 1]   (mouth loss weight near bilabial closures)
 *     [--closure-loss frames|best|hold]   (weight every frame near a closure, its best frame, or hold every frame there sealed)
 *     [--still-weight 0]   (frame-to-frame change of the outputs where the target is at rest)
 *     [--retime <source>:<seconds>[,...]]   (move that source's labels, e.g. espeak-ng:-0.03; retime.ts)
 *     [--feature-norm-tau <s> [--feature-norm-prior <s>] [--feature-norm-floor <std>]]   (online-normalised features; augmentations act
 *       before the normaliser; the floor bounds how far below the running mean a frame under the gate reads)
 *     [--snapshot-every N]   (write the model so far to <out>.snapshot.onnx every N steps)
 *     [--validation-fraction 0.1]   (each clip's end held out for the validation loss; 0: train on whole clips)
 * Uses the project's trainer (trainer/train-generator.ts) in template space.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { generatorFromOnnx, generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { GeneratorTraining, type TrainResult } from '../../trainer/train-generator.ts';
import { loadCorpora } from '../../trainer/generator-corpus.ts';
import { AUGMENT_DEFAULTS, AUGMENT_OFF } from '../../trainer/generator-augment.ts';
import { retimedTargets } from './retime.ts';

/** `espeak-ng:-0.03,flite-kal:0.01` -> source -> seconds */
function parseRetime(v: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of v.split(',').filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+):(-?[0-9.]+)$/.exec(part);
    if (!m || !Number.isFinite(Number(m[2]))) throw new ConfigError(`--retime: expected <source>:<seconds>[,...], got ${JSON.stringify(part)}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
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
      augment: { type: 'boolean', default: false },
      speed: { type: 'string', default: '0' },
      'gain-db': { type: 'string', default: '6' },
      'non-speech': { type: 'string', default: '0' },
      'quiet-room': { type: 'string', default: '0' },
      tones: { type: 'string', default: '0' },
      init: { type: 'string' },
      'augment-probability': { type: 'string', default: String(AUGMENT_DEFAULTS.probability) },
      'min-snr': { type: 'string', default: String(AUGMENT_DEFAULTS.snrDb[0]) },
      warp: { type: 'string', default: String(AUGMENT_DEFAULTS.warp) },
      'mouth-weight': { type: 'string', default: '2' },
      'exclude-source': { type: 'string', default: '' },
      'closure-weight': { type: 'string', default: '1' },
      'closure-radius': { type: 'string', default: '1' },
      'closure-loss': { type: 'string', default: 'frames' },
      'still-weight': { type: 'string', default: '0' },
      retime: { type: 'string', default: '' },
      // online mean/variance normalisation of the features (worker/audio/online-norm.ts): time constant in s
      'feature-norm-tau': { type: 'string' },
      'feature-norm-prior': { type: 'string', default: '1' },
      // quiet floor: frames under the normaliser's gate read no lower than this many running stds below the running mean
      'feature-norm-floor': { type: 'string' },
      // write the model so far to <out>.snapshot.onnx every N steps, so a run stopped early still leaves one to measure
      'snapshot-every': { type: 'string', default: '0' },
      // share of every clip's end held out for the validation loss; 0 trains on the whole clip,
      // trailing silence included (a normalised model must learn silence after speech too)
      'validation-fraction': { type: 'string', default: '0.1' },
    },
  });
  if (!values.corpus || !values.out) throw new ConfigError('--corpus and --out: expected the corpus folder and the output .onnx');
  const t0 = Date.now();
  const exclude = new Set(values['exclude-source'].split(',').filter(Boolean));
  const { pairs, sources, seeds, pairSources, pairPhonemes } = await loadCorpora(values.corpus.split(',').filter(Boolean), exclude);
  const retime = parseRetime(values.retime);
  for (const src of retime.keys()) if (!sources.has(src)) throw new ConfigError(`--retime: no clips of source ${src} (have ${[...sources.keys()].join(', ')})`);
  let rebuilt = 0;
  let drift = 0;
  for (const [i, p] of pairs.entries()) {
    const shift = retime.get(pairSources[i]);
    const ph = pairPhonemes[i];
    if (shift === undefined) continue;
    if (!ph) throw new ConfigError(`--retime: a clip of ${pairSources[i]} has no phoneme labels to move`);
    const duration = p.pcm.length / p.sampleRate;
    // The labels must rebuild the stored track before they are moved (same rules, same clock).
    const same = retimedTargets(ph, 0, p.frames, duration).landmarks;
    for (let k = 0; k < same.length; k++) drift = Math.max(drift, Math.abs(same[k] - p.landmarks[k]));
    const t = retimedTargets(ph, shift, p.frames, duration);
    p.landmarks = t.landmarks;
    p.closureFrames = t.closureFrames;
    rebuilt++;
  }
  if (drift > 0.01) throw new ConfigError(`--retime: the phoneme labels rebuild the stored tracks only to within ${drift.toFixed(4)} (expected < 0.01): corpus made by other rules`);
  if (rebuilt > 0) process.stderr.write(`retimed ${rebuilt} clips (${[...retime].map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v * 1000} ms`).join(', ')}); labels rebuild the stored tracks to ${drift.toExponential(1)}\n`);
  if (pairs.length === 0) throw new ConfigError(`--corpus: no clips left after --exclude-source ${[...exclude].join(',')}`);
  const frames = pairs.reduce((a, p) => a + p.frames, 0);
  const sourceList = [...sources].map(([k, v]) => `${k}:${v}`).join(' ');
  process.stderr.write(`loaded ${pairs.length} clips (${sourceList}), ${frames} frames in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const augment = values.augment
    ? { ...AUGMENT_DEFAULTS, probability: Number(values['augment-probability']), warp: Number(values.warp), snrDb: [Number(values['min-snr']), Math.max(Number(values['min-snr']), AUGMENT_DEFAULTS.snrDb[1])] as [number, number] }
    : AUGMENT_OFF;
  let last = Date.now();
  const t1 = Date.now();
  const run = new GeneratorTraining(pairs, {
    epochs: Number(values.epochs),
    channels: Number(values.channels),
    seed: Number(values.seed),
    batch: Number(values.batch),
    lr: Number(values.lr),
    validationFraction: Number(values['validation-fraction']),
    maxSteps: values['max-steps'] ? Number(values['max-steps']) : Number.POSITIVE_INFINITY,
    space: 'template',
    augment: augment,
    mouthWeight: Number(values['mouth-weight']),
    speed: Number(values.speed),
    gainDb: Number(values['gain-db']),
    nonSpeech: Number(values['non-speech']),
    quietRoom: Number(values['quiet-room']),
    tones: Number(values.tones),
    closureWeight: Number(values['closure-weight']),
    closureRadius: Number(values['closure-radius']),
    closureLoss: values['closure-loss'] as 'frames' | 'best' | 'hold',
    stillWeight: Number(values['still-weight']),
    init: values.init ? generatorFromOnnx(new Uint8Array(await readFile(values.init)), '--init') : null,
    featureNorm: values['feature-norm-tau']
      ? {
          tau: Number(values['feature-norm-tau']),
          priorSeconds: Number(values['feature-norm-prior']),
          ...(values['feature-norm-floor'] === undefined ? {} : { quietFloor: Number(values['feature-norm-floor']) }),
        }
      : null,
  });
  const modelFile = (r: TrainResult): Uint8Array =>
    generatorToOnnx(r.generator, {
      source: 'scripts/corpus/train-default.ts',
      corpusSeed: seeds.join(','),
      corpusSources: sourceList,
      augment: values.augment ? JSON.stringify(augment) : 'off',
      mouthWeight: String(values['mouth-weight']),
      speed: String(values.speed),
      gainDb: String(values['gain-db']),
      nonSpeech: String(values['non-speech']),
      quietRoom: String(values['quiet-room']),
      tones: String(values.tones),
      closureWeight: String(values['closure-weight']),
      closureRadius: String(values['closure-radius']),
      closureLoss: values['closure-loss'],
      stillWeight: String(values['still-weight']),
      retime: values.retime || 'none',
      init: values.init ? path.basename(values.init) : 'none',
      featureNorm: values['feature-norm-tau']
        ? `online-mvn tau ${values['feature-norm-tau']} s, prior ${values['feature-norm-prior']} s${values['feature-norm-floor'] === undefined ? '' : `, quiet floor ${values['feature-norm-floor']} std`}`
        : 'none',
      corpusClips: String(pairs.length),
      corpusFrames: String(frames),
      epochs: String(values.epochs),
      steps: String(r.steps),
      trainLoss: r.trainLoss.toFixed(5),
      validationLoss: r.validationLoss === null ? 'none' : r.validationLoss.toFixed(5),
    });
  const snapshotEvery = Number(values['snapshot-every']);
  if (!(Number.isInteger(snapshotEvery) && snapshotEvery >= 0)) throw new ConfigError(`--snapshot-every: expected a whole number of steps, got ${values['snapshot-every']}`);
  while (!run.done) {
    const p = run.next();
    if (Date.now() - last > 30_000 || p.step === p.steps) {
      last = Date.now();
      process.stderr.write(`step ${p.step}/${p.steps} epoch ${p.epoch + 1} loss ${p.loss.toFixed(4)} ${((Date.now() - t1) / 1000).toFixed(0)} s\n`);
    }
    if (snapshotEvery > 0 && p.step % snapshotEvery === 0 && !run.done) {
      const snap = `${values.out}.snapshot.onnx`;
      await writeFile(snap, modelFile({ generator: run.generator, trainLoss: p.loss, validationLoss: null, steps: p.step }));
      process.stderr.write(`snapshot at step ${p.step}: ${snap}\n`);
    }
  }
  const r = run.result();
  const seconds = (Date.now() - t1) / 1000;
  const onnx = modelFile(r);
  await writeFile(values.out, onnx);
  process.stdout.write(`wrote ${values.out} (${onnx.length} bytes): ${r.steps} steps in ${seconds.toFixed(0)} s, train loss ${r.trainLoss.toFixed(4)}, validation loss ${r.validationLoss?.toFixed(4) ?? 'n/a'}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`train-default: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
