/**
 * `r2talker generator-quality [--generator <onnx>] [--corpus <dir> | --make-heldout]`:
 * measures a template-space generator on held-out speech (voices and sentences the default
 * generator never saw; see scripts/make-corpus.ts --split heldout) and prints issue 4's
 * three figures against their targets:
 *   - Pearson correlation of predicted and true inner-lip opening (62-66), all frames pooled;
 *   - share of bilabial closures (m, b, p; one frame at each one's centre) where the
 *     predicted mouth is below 20% of its range;
 *   - the largest distance of any landmark from rest in silence (>= 0.3 s from speech).
 * Exit code 1 when a target is missed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { LANDMARK_DIM } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { closureRate, lipOpening, pearson, silenceDeviation } from '../../worker/landmarks/quality.ts';
import { readInputFile } from '../files.ts';
import { DEFAULT_GENERATOR_PATH, predictTrack } from './landmarks.ts';
import { trackFromNpy } from './train-generator.ts';

export const QUALITY_TARGETS = {
  /** pooled Pearson correlation of inner-lip opening, at least */
  lipCorrelation: 0.8,
  /** share of bilabial closures reaching < 20% of the opening range, at least */
  closureRate: 0.8,
  /**
   * Largest landmark distance from rest in silence, at most, in template units (cm on the
   * template face, whose widest vowel opens the inner lips by about 1.3): 1 mm.
   */
  silenceTolerance: 0.1,
};

/** One held-out clip as the corpus manifest describes it. */
export interface HeldoutClip {
  id: string;
  wav: string;
  landmarks: string;
  closureFrames: number[];
  silenceFrames: number[];
}

export interface QualityReport {
  clips: number;
  frames: number;
  lipCorrelation: number;
  /** mean of the per-clip correlations */
  meanClipCorrelation: number;
  closures: number;
  closed: number;
  closureRate: number;
  silenceFrames: number;
  silenceDeviation: number;
  pass: { lipCorrelation: boolean; closureRate: boolean; silence: boolean };
}

const MAX_CLIPS = 10_000;

/** Reads and checks `<dir>/manifest.json` of a corpus. */
export async function readHeldout(dir: string): Promise<{ rest: Float32Array; clips: HeldoutClip[] }> {
  const file = path.join(dir, 'manifest.json');
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder().decode(await readInputFile(file, 'corpus')));
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw FormatError.input('corpus', `${file} is not JSON`, e);
  }
  const obj = m as { kind?: unknown; rest?: unknown; clips?: unknown };
  if (obj?.kind !== 'r2talker-speech-corpus') throw FormatError.expected('INPUT_FORMAT', 'corpus.kind', 'r2talker-speech-corpus', JSON.stringify(obj?.kind));
  if (!Array.isArray(obj.rest) || obj.rest.length !== LANDMARK_DIM || !obj.rest.every((x) => typeof x === 'number')) throw FormatError.expected('INPUT_FORMAT', 'corpus.rest', `${LANDMARK_DIM} numbers`, String(Array.isArray(obj.rest) ? obj.rest.length : typeof obj.rest));
  if (!Array.isArray(obj.clips) || obj.clips.length < 1 || obj.clips.length > MAX_CLIPS) throw FormatError.expected('INPUT_FORMAT', 'corpus.clips', `1..${MAX_CLIPS} clips`, String(Array.isArray(obj.clips) ? obj.clips.length : typeof obj.clips));
  const ints = (a: unknown) => Array.isArray(a) && a.every((x) => Number.isInteger(x) && x >= 0);
  const clips = (obj.clips as HeldoutClip[]).map((c, i) => {
    const plainName = (s: unknown) => typeof s === 'string' && s.length > 0 && !s.includes('/') && !s.includes('\\') && s !== '..';
    if (!plainName(c?.wav) || !plainName(c?.landmarks)) throw FormatError.input(`corpus.clips[${i}]`, 'expected wav and landmarks file names inside the corpus folder');
    if (!ints(c.closureFrames) || !ints(c.silenceFrames)) throw FormatError.input(`corpus.clips[${i}]`, 'expected closureFrames and silenceFrames as lists of frame indices');
    return c;
  });
  return { rest: Float32Array.from(obj.rest as number[]), clips };
}

/** Runs the generator on every clip and computes the figures. */
export async function measureQuality(generatorBytes: Uint8Array, dir: string, engine: 'onnx' | 'ts' = 'onnx'): Promise<QualityReport> {
  const g = generatorFromOnnx(generatorBytes, 'generator');
  if (g.space !== 'template') throw new ConfigError(`generator.space: expected a template-space (default) generator, got ${g.space}`);
  const { rest, clips } = await readHeldout(dir);
  const predAll: number[] = [];
  const trueAll: number[] = [];
  let perClip = 0;
  let closures = 0;
  let closed = 0;
  let silence = 0;
  let worst = 0;
  for (const c of clips) {
    const wav = readWav(await readInputFile(path.join(dir, c.wav), `corpus ${c.wav}`));
    const truth = trackFromNpy(await readInputFile(path.join(dir, c.landmarks), `corpus ${c.landmarks}`));
    const pred = await predictTrack(g, generatorBytes, wav.samples, wav.sampleRate, null, engine);
    const frames = Math.min(pred.frames, truth.frames);
    for (const f of [...c.closureFrames, ...c.silenceFrames]) {
      if (f >= frames) throw FormatError.input(`corpus ${c.id}`, `frame ${f} is past the track's ${frames} frames`);
    }
    const po = lipOpening(pred.landmarks, frames);
    const to = lipOpening(truth.landmarks, frames);
    predAll.push(...po);
    trueAll.push(...to);
    perClip += pearson(po, to);
    closures += c.closureFrames.length;
    closed += Math.round(closureRate(po, c.closureFrames) * c.closureFrames.length);
    silence += c.silenceFrames.length;
    worst = Math.max(worst, silenceDeviation(pred.landmarks, c.silenceFrames, rest));
  }
  const lip = pearson(predAll, trueAll);
  const rate = closures > 0 ? closed / closures : 1;
  return {
    clips: clips.length,
    frames: predAll.length,
    lipCorrelation: lip,
    meanClipCorrelation: perClip / clips.length,
    closures,
    closed,
    closureRate: rate,
    silenceFrames: silence,
    silenceDeviation: worst,
    pass: {
      lipCorrelation: lip >= QUALITY_TARGETS.lipCorrelation,
      closureRate: rate >= QUALITY_TARGETS.closureRate,
      silence: worst <= QUALITY_TARGETS.silenceTolerance,
    },
  };
}

export function formatReport(r: QualityReport): string {
  const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
  const t = QUALITY_TARGETS;
  return [
    `held-out clips: ${r.clips} (${r.frames} frames at 25 fps)`,
    `inner-lip opening correlation: ${r.lipCorrelation.toFixed(3)} (target >= ${t.lipCorrelation}; mean per clip ${r.meanClipCorrelation.toFixed(3)}) ${ok(r.pass.lipCorrelation)}`,
    `bilabial closures below 20% of range: ${r.closed}/${r.closures} = ${(100 * r.closureRate).toFixed(1)}% (target >= ${100 * t.closureRate}%) ${ok(r.pass.closureRate)}`,
    `silence: largest landmark distance from rest ${r.silenceDeviation.toFixed(4)} over ${r.silenceFrames} frames (tolerance ${t.silenceTolerance} template units = 1 mm) ${ok(r.pass.silence)}`,
  ].join('\n');
}

/** Makes a held-out corpus by running the corpus recipe in its own process (eSpeak NG is GPL and never loaded here). */
export async function makeHeldout(dir: string, count: number, seed: number): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const script = path.join(root, 'scripts/make-corpus.ts');
  // Run from the repository root so that `--import tsx` resolves to its devDependency.
  const args = ['--import', 'tsx', script, '--split', 'heldout', '--out', path.resolve(dir), '--count', String(count), '--seed', String(seed)];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new ConfigError(`--make-heldout: scripts/make-corpus.ts failed (exit ${code}): ${err.trim()}`))));
  });
}

function intOption(name: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

interface QualityOptions {
  generator?: string;
  corpus?: string;
  makeHeldout?: boolean;
  count: string;
  seed: string;
  engine: string;
}

export function register(program: Command): void {
  program
    .command('generator-quality')
    .description('measure a default (template-space) generator on held-out synthetic speech')
    .option('--generator <onnx>', 'generator to measure', DEFAULT_GENERATOR_PATH)
    .option('--corpus <dir>', 'held-out corpus made by scripts/make-corpus.ts --split heldout')
    .option('--make-heldout', 'synthesise a held-out corpus first (needs the eSpeak NG devDependency)')
    .option('--count <n>', 'clips for --make-heldout', '40')
    .option('--seed <n>', 'seed for --make-heldout (the training corpus seed: its sentences are excluded)', '1')
    .option('--engine <name>', 'onnx (onnxruntime-web wasm) or ts (TypeScript forward pass)', 'onnx')
    .action(async (opts: QualityOptions) => {
      if (opts.engine !== 'onnx' && opts.engine !== 'ts') throw new ConfigError(`--engine: expected onnx or ts, got ${JSON.stringify(opts.engine)}`);
      if (!opts.corpus === !opts.makeHeldout) throw new ConfigError('--corpus / --make-heldout: expected exactly one of them');
      const bytes = await readInputFile(opts.generator ?? DEFAULT_GENERATOR_PATH, 'generator');
      let dir = opts.corpus ?? '';
      let tmp: string | null = null;
      if (opts.makeHeldout) {
        tmp = await mkdtemp(path.join(os.tmpdir(), 'r2t-heldout-'));
        dir = tmp;
        await makeHeldout(dir, intOption('--count', opts.count, 1, 2000), intOption('--seed', opts.seed, 0, 2 ** 31 - 1));
      }
      try {
        const r = await measureQuality(bytes, dir, opts.engine);
        process.stdout.write(`${formatReport(r)}\n`);
        if (!r.pass.lipCorrelation || !r.pass.closureRate || !r.pass.silence) process.exitCode = 1;
      } finally {
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }
    });
}
