/**
 * `r2talker generator-quality [--generator <onnx>] [--corpus <dir>[,<dir>...] | --make-heldout]
 *    [--channels clean,telephone,noise20,noise10] [--leave-one-out --steps N]`:
 * measures a template-space generator on held-out speech (voices and sentences the default
 * generator never saw; see scripts/make-corpus.ts --split heldout, or any aligned set from
 * scripts/make-aligned-corpus.ts) and prints issue 4's three figures against their targets,
 * then one row per voice source (each clip's `source`) and the worst row (issue 12):
 *   - Pearson correlation of predicted and true inner-lip opening (62-66), all frames pooled;
 *   - share of bilabial closures (m, b, p; one frame at each one's centre) where the
 *     predicted mouth is below 20% of its range;
 *   - the largest distance of any landmark from rest in silence (>= 0.3 s from speech).
 * With --channels, every row is measured again on telephone-band or noisy versions of the audio
 * (generator-quality-channels.ts). With --leave-one-out, the generator is not read: for each
 * source, one is trained on all the other sources (bounded steps) and measured on that source.
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
import { generatorFromOnnx, generatorToOnnx } from '../../worker/landmarks/onnx-export.ts';
import { closureRate, lipOpening, pearson, silenceDeviation } from '../../worker/landmarks/quality.ts';
import { readInputFile } from '../files.ts';
import { DEFAULT_GENERATOR_PATH, predictTrack } from './landmarks.ts';
import { trackFromNpy } from '../../trainer/generator-pairs.ts';
import { CHANNELS, degrade, parseChannels, type Channel } from './generator-quality-channels.ts';
import { clipSource, loadCorpora } from '../../trainer/generator-corpus.ts';
import { loudnessCheck } from '../../worker/landmarks/loudness-check.ts';
import { AUGMENT_DEFAULTS } from '../../trainer/generator-augment.ts';
import { pairFeatures, trainGenerator } from '../../trainer/train-generator.ts';

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
  /** the voice source (one synthesiser or one real speaker); eSpeak NG when absent */
  source?: string;
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
  /** the same figures per voice source, sorted by name */
  bySource: SourceRow[];
}

export interface SourceRow extends Omit<QualityReport, 'bySource'> {
  source: string;
}

/** Running sums of one group of clips. */
class Tally {
  pred: number[] = [];
  truth: number[] = [];
  perClip = 0;
  clips = 0;
  closures = 0;
  closed = 0;
  silence = 0;
  worst = 0;

  report(): Omit<QualityReport, 'bySource'> {
    const lip = pearson(this.pred, this.truth);
    const rate = this.closures > 0 ? this.closed / this.closures : 1;
    return {
      clips: this.clips,
      frames: this.pred.length,
      lipCorrelation: lip,
      meanClipCorrelation: this.clips > 0 ? this.perClip / this.clips : 0,
      closures: this.closures,
      closed: this.closed,
      closureRate: rate,
      silenceFrames: this.silence,
      silenceDeviation: this.worst,
      pass: {
        lipCorrelation: lip >= QUALITY_TARGETS.lipCorrelation,
        closureRate: rate >= QUALITY_TARGETS.closureRate,
        silence: this.worst <= QUALITY_TARGETS.silenceTolerance,
      },
    };
  }
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

export interface MeasureOptions {
  /** listening condition the audio is put through first */
  channel?: Channel;
  /** measure only clips of these sources */
  only?: Set<string> | null;
}

/** Runs the generator on every clip of one or more corpora and computes the figures, pooled and per source. */
export async function measureQuality(generatorBytes: Uint8Array, dirs: string | string[], engine: 'onnx' | 'ts' = 'onnx', options: MeasureOptions = {}): Promise<QualityReport> {
  const g = generatorFromOnnx(generatorBytes, 'generator');
  if (g.space !== 'template') throw new ConfigError(`generator.space: expected a template-space (default) generator, got ${g.space}`);
  const all = new Tally();
  const groups = new Map<string, Tally>();
  for (const dir of typeof dirs === 'string' ? [dirs] : dirs) {
    const { rest, clips } = await readHeldout(dir);
    for (const c of clips) {
      const source = clipSource(c);
      if (options.only && !options.only.has(source)) continue;
      const wav = readWav(await readInputFile(path.join(dir, c.wav), `corpus ${c.wav}`));
      const truth = trackFromNpy(await readInputFile(path.join(dir, c.landmarks), `corpus ${c.landmarks}`));
      const pcm = degrade(wav.samples, wav.sampleRate, options.channel ?? 'clean');
      const pred = await predictTrack(g, generatorBytes, pcm, wav.sampleRate, null, engine);
      const frames = Math.min(pred.frames, truth.frames);
      for (const f of [...c.closureFrames, ...c.silenceFrames]) {
        if (f >= frames) throw FormatError.input(`corpus ${c.id}`, `frame ${f} is past the track's ${frames} frames`);
      }
      const po = lipOpening(pred.landmarks, frames);
      const to = lipOpening(truth.landmarks, frames);
      const r = pearson(po, to);
      const closed = Math.round(closureRate(po, c.closureFrames) * c.closureFrames.length);
      const dev = silenceDeviation(pred.landmarks, c.silenceFrames, rest);
      if (!groups.has(source)) groups.set(source, new Tally());
      for (const t of [all, groups.get(source)!]) {
        for (let i = 0; i < frames; i++) {
          t.pred.push(po[i]);
          t.truth.push(to[i]);
        }
        t.perClip += r;
        t.clips++;
        t.closures += c.closureFrames.length;
        t.closed += closed;
        t.silence += c.silenceFrames.length;
        t.worst = Math.max(t.worst, dev);
      }
    }
  }
  if (all.clips === 0) throw new ConfigError(`corpus: no clip${options.only ? ` of source ${[...options.only].join(', ')}` : ''} to measure`);
  const bySource = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([source, t]) => ({ source, ...t.report() }));
  return { ...all.report(), bySource };
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

/**
 * The per-source table: one row per source with the clean figures and, per extra listening
 * condition, its lip correlation and the change from clean; then the worst row (lowest lip
 * correlation in any condition), which is what issue 12's targets bind.
 */
export function formatSourceTable(byChannel: Map<Channel, SourceRow[]>, title = 'per source'): string {
  const clean = byChannel.get('clean') ?? [...byChannel.values()][0] ?? [];
  const extra = [...byChannel.keys()].filter((c) => c !== 'clean');
  const pad = (x: string, n: number) => x.padEnd(n);
  const head = [pad(title, 20), pad('clips', 6), pad('frames', 7), pad('lip r', 6), pad('closures', 16), pad('silence', 8), ...extra.map((c) => pad(`${c} r (d)`, 18))].join(' ');
  const lines = [head];
  let worst: { source: string; channel: string; r: number } | null = null;
  for (const row of clean) {
    const cells = [
      pad(row.source, 20),
      pad(String(row.clips), 6),
      pad(String(row.frames), 7),
      pad(row.lipCorrelation.toFixed(3), 6),
      pad(`${row.closed}/${row.closures} ${(100 * row.closureRate).toFixed(1)}%`, 16),
      pad(row.silenceDeviation.toFixed(3), 8),
    ];
    if (!worst || row.lipCorrelation < worst.r) worst = { source: row.source, channel: 'clean', r: row.lipCorrelation };
    for (const c of extra) {
      const other = byChannel.get(c)?.find((x) => x.source === row.source);
      if (!other) {
        cells.push(pad('-', 18));
        continue;
      }
      cells.push(pad(`${other.lipCorrelation.toFixed(3)} (${(other.lipCorrelation - row.lipCorrelation >= 0 ? '+' : '') + (other.lipCorrelation - row.lipCorrelation).toFixed(3)})`, 18));
      if (other.lipCorrelation < worst.r) worst = { source: row.source, channel: c, r: other.lipCorrelation };
    }
    lines.push(cells.join(' '));
  }
  if (worst) lines.push(`worst row: ${worst.source} (${worst.channel}) lip r ${worst.r.toFixed(3)} (target >= ${QUALITY_TARGETS.lipCorrelation}) ${worst.r >= QUALITY_TARGETS.lipCorrelation ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}

/**
 * The loudness-only check (worker/landmarks/loudness-check.ts) on the first `perSource` clips
 * of every source: how far a hum and a noise burst matched to that clip's loudness open the
 * mouth, relative to the clip's speech. One line per source with the worst ratio, and the worst
 * ratio of a loudness-matched tune (reported, not part of the issue's hum-or-noise target).
 */
export async function loudnessBySource(generatorBytes: Uint8Array, dirs: string[], perSource = 3): Promise<{ source: string; clips: number; ratio: number; speech: number; hum: number; noise: number; tones: number; tonesRatio: number }[]> {
  const g = generatorFromOnnx(generatorBytes, 'generator');
  const rows = new Map<string, { source: string; clips: number; ratio: number; speech: number; hum: number; noise: number; tones: number; tonesRatio: number }>();
  for (const dir of dirs) {
    for (const c of (await readHeldout(dir)).clips) {
      const source = clipSource(c);
      const row = rows.get(source) ?? { source, clips: 0, ratio: 0, speech: 0, hum: 0, noise: 0, tones: 0, tonesRatio: 0 };
      if (row.clips >= perSource) continue;
      const wav = readWav(await readInputFile(path.join(dir, c.wav), `corpus ${c.wav}`));
      const r = loudnessCheck(g, wav.samples, wav.sampleRate);
      if (r.ratio >= row.ratio) Object.assign(row, { ratio: r.ratio, speech: r.speech, hum: r.hum, noise: r.noise, tones: r.tones });
      row.tonesRatio = Math.max(row.tonesRatio, r.speech > 0 ? r.tones / r.speech : Infinity);
      row.clips++;
      rows.set(source, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.source.localeCompare(b.source));
}

/** Largest (hum or noise) / speech mouth opening the loudness-only check accepts. */
export const LOUDNESS_RATIO_TARGET = 0.35;

export interface LeaveOneOutOptions {
  steps: number;
  channels: number;
  seed: number;
  conditions: Channel[];
  /** hold out only these sources (each still trained without); all when absent */
  heldSources?: string[];
  /** the trainer's closure weight (1 = off; see trainer/train-generator.ts) */
  closureWeight?: number;
  log?: (s: string) => void;
}

/**
 * For every source in the corpora: trains a generator on all the other sources (the default
 * recipe's augmentation, `steps` steps) and measures it on that source alone. Returns the
 * rows per listening condition, as formatSourceTable prints them.
 */
export async function leaveOneOut(dirs: string[], o: LeaveOneOutOptions): Promise<Map<Channel, SourceRow[]>> {
  // Audio and features are loaded once; each training takes the other sources' pairs.
  const all = await loadCorpora(dirs);
  const sources = new Set(all.pairSources);
  if (sources.size < 2) throw new ConfigError(`--leave-one-out: expected clips of at least two sources, got ${[...sources].join(', ') || 'none'}`);
  const t0 = Date.now();
  for (const p of all.pairs) p.mel = pairFeatures(p);
  o.log?.(`features of ${all.pairs.length} clips in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const s of o.heldSources ?? []) if (!sources.has(s)) throw new ConfigError(`--held-out-sources: no clips of source ${s} (have ${[...sources].sort().join(', ')})`);
  const out = new Map<Channel, SourceRow[]>(o.conditions.map((c) => [c, []]));
  for (const held of [...sources].sort().filter((s) => !o.heldSources || o.heldSources.includes(s))) {
    const pairs = all.pairs.filter((_, i) => all.pairSources[i] !== held);
    const t1 = Date.now();
    const r = trainGenerator(pairs, {
      space: 'template', channels: o.channels, seed: o.seed, maxSteps: o.steps, epochs: 10_000,
      augment: AUGMENT_DEFAULTS, speed: 0.15, gainDb: 10, nonSpeech: 0.08, closureWeight: o.closureWeight ?? 1,
    });
    o.log?.(`without ${held}: ${r.steps} steps on ${pairs.length} clips in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
    const bytes = generatorToOnnx(r.generator, { source: `leave-one-out without ${held}` });
    for (const c of o.conditions) {
      const q = await measureQuality(bytes, dirs, 'ts', { channel: c, only: new Set([held]) });
      out.get(c)!.push(...q.bySource);
      // Each row as soon as it is measured: a long run stopped early keeps what it measured.
      o.log?.(`  ${held} (${c}): lip r ${q.lipCorrelation.toFixed(3)}, closures ${q.closed}/${q.closures}, silence ${q.silenceDeviation.toFixed(3)}`);
    }
  }
  return out;
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
  channels: string;
  leaveOneOut?: boolean;
  steps: string;
  hidden: string;
  closureWeight: string;
  heldOutSources?: string;
  loudness?: boolean;
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
    .option('--channels <list>', `listening conditions for the per-source rows: ${CHANNELS.join(', ')}`, 'clean')
    .option('--leave-one-out', 'for each source: train without it (--steps, --hidden) and measure on it')
    .option('--steps <n>', 'training steps per leave-one-out model', '1500')
    .option('--hidden <n>', 'hidden channels of the leave-one-out models', '64')
    .option('--held-out-sources <list>', 'with --leave-one-out: only these rows (a long run resumed source by source)')
    .option('--closure-weight <w>', 'mouth loss weight near bilabial closures for the leave-one-out models (1 = off)', '1')
    .option('--loudness', 'also run the loudness-only check (hum and noise burst vs speech) on 3 clips per source')
    .action(async (opts: QualityOptions) => {
      if (opts.engine !== 'onnx' && opts.engine !== 'ts') throw new ConfigError(`--engine: expected onnx or ts, got ${JSON.stringify(opts.engine)}`);
      if (!opts.corpus === !opts.makeHeldout) throw new ConfigError('--corpus / --make-heldout: expected exactly one of them');
      const conditions = parseChannels(opts.channels);
      if (opts.leaveOneOut) {
        if (!opts.corpus) throw new ConfigError('--leave-one-out: expected --corpus');
        const rows = await leaveOneOut(opts.corpus.split(',').filter(Boolean), {
          steps: intOption('--steps', opts.steps, 1, 100_000),
          channels: intOption('--hidden', opts.hidden, 4, 256),
          seed: intOption('--seed', opts.seed, 0, 2 ** 31 - 1),
          closureWeight: Number(opts.closureWeight),
          heldSources: opts.heldOutSources?.split(',').filter(Boolean),
          conditions,
          log: (s) => process.stderr.write(`${s}\n`),
        });
        const text = formatSourceTable(rows, 'held-out source');
        process.stdout.write(`leave-one-out (each row: a generator trained without that source)\n${text}\n`);
        if (text.includes('FAIL')) process.exitCode = 1;
        return;
      }
      const bytes = await readInputFile(opts.generator ?? DEFAULT_GENERATOR_PATH, 'generator');
      let dirs = (opts.corpus ?? '').split(',').filter(Boolean);
      let tmp: string | null = null;
      if (opts.makeHeldout) {
        tmp = await mkdtemp(path.join(os.tmpdir(), 'r2t-heldout-'));
        dirs = [tmp];
        await makeHeldout(tmp, intOption('--count', opts.count, 1, 2000), intOption('--seed', opts.seed, 0, 2 ** 31 - 1));
      }
      try {
        const byChannel = new Map<Channel, SourceRow[]>();
        let clean: QualityReport | null = null;
        for (const c of conditions) {
          const r = await measureQuality(bytes, dirs, opts.engine as 'onnx' | 'ts', { channel: c });
          byChannel.set(c, r.bySource);
          if (c === 'clean' || !clean) clean = clean && c !== 'clean' ? clean : r;
        }
        const r = clean!;
        process.stdout.write(`${formatReport(r)}\n${formatSourceTable(byChannel)}\n`);
        if (!r.pass.lipCorrelation || !r.pass.closureRate || !r.pass.silence) process.exitCode = 1;
        if (opts.loudness) {
          for (const l of await loudnessBySource(bytes, dirs)) {
            const ok = l.ratio <= LOUDNESS_RATIO_TARGET;
            if (!ok) process.exitCode = 1;
            process.stdout.write(`loudness-only ${l.source}: worst of ${l.clips} clips hum ${l.hum.toFixed(3)} / noise ${l.noise.toFixed(3)} vs speech ${l.speech.toFixed(3)} = ${l.ratio.toFixed(2)} (target <= ${LOUDNESS_RATIO_TARGET}) ${ok ? 'PASS' : 'FAIL'}; tune ${l.tones.toFixed(3)}, worst tune / speech ${l.tonesRatio.toFixed(2)}\n`);
          }
        }
      } finally {
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }
    });
}
