/**
 * Where silence lands in the normalised features, before a clip's speech and after it: the
 * online normaliser (worker/audio/online-norm.ts) is set up exactly as the trainer sets it up
 * (its prior from the training part of the given corpora), each clip is normalised from its
 * first frame, and the frames under the normaliser's gate are grouped as leading silence (before
 * the first frame whose target leaves rest), trailing silence (0.3 s or more after the last) and
 * pauses within the speech. Per source it prints each group's mean band-average normalised value
 * and its 5th / 50th / 95th percentiles per band value, and the share of sounding (above-gate)
 * band values below -floor:
 *   npx tsx scripts/corpus/silence-levels.ts --corpus <dir>[,<dir>...] [--tau 3] [--prior 1] [--floor 1.5]
 *     [--prior-corpus <dir>[,...]]   (take the prior from these corpora instead)
 *     [--heldout <dir>[,...]]   (measure, not train: held-out sets as generator-quality reads them; their
 *                                silence frames before the first and after the last speech, the prior
 *                                still from --corpus; prints each source's means and its clip with the
 *                                largest drop from leading to trailing silence)
 * With --floor the normaliser bounds the quiet frames (`quietFloor`); without, it is unbounded.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { MEL } from '../../worker/audio/mel.ts';
import { OnlineMvn, type OnlineMvnSpec } from '../../worker/audio/online-norm.ts';
import { LANDMARK_DIM, MEL_PER_FRAME, createGenerator, melStart } from '../../worker/landmarks/model.ts';
import { TRAIN_DEFAULTS, prepareData, type TrainingPair } from '../../trainer/train-generator.ts';
import { clipSource, loadCorpora } from '../../trainer/generator-corpus.ts';
import { audioToMel } from '../../worker/audio/features.ts';
import { readWav } from '../../worker/io/wav.ts';
import { readHeldout } from '../../cli/commands/generator-quality.ts';

const B = MEL.bins;
/** a target frame is at rest when every template offset is within this (as the trainer's stillness term) */
const REST = 0.01;
/** trailing silence starts this many target frames (0.3 s) after the last frame off rest */
const AFTER = 8;
/** leading silence ends this many target frames before the first frame off rest */
const BEFORE = 2;

interface Group {
  rows: number;
  avgSum: number;
  values: number[];
}

const group = (): Group => ({ rows: 0, avgSum: 0, values: [] });

function add(gr: Group, row: Float32Array): void {
  let s = 0;
  for (let c = 0; c < B; c++) {
    s += row[c];
    // every 7th value keeps the percentiles cheap and still representative
    if (c % 7 === gr.rows % 7) gr.values.push(row[c]);
  }
  gr.rows++;
  gr.avgSum += s / B;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

function describe(name: string, gr: Group): string {
  const v = gr.values.sort((a, b) => a - b);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
  return `${name} ${gr.rows} rows: mean ${f(gr.avgSum / gr.rows)}, p5/p50/p95 ${f(quantile(v, 0.05))} / ${f(quantile(v, 0.5))} / ${f(quantile(v, 0.95))}`;
}

function speechSpan(p: TrainingPair): { first: number; last: number } | null {
  let first = -1;
  let last = -1;
  for (let t = 0; t < p.frames; t++) {
    let off = false;
    for (let d = 0; d < LANDMARK_DIM && !off; d++) off = Math.abs(p.landmarks[t * LANDMARK_DIM + d]) > REST;
    if (off) {
      if (first < 0) first = t;
      last = t;
    }
  }
  return first < 0 ? null : { first, last };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string' },
      'prior-corpus': { type: 'string' },
      tau: { type: 'string', default: '3' },
      prior: { type: 'string', default: '1' },
      floor: { type: 'string' },
      heldout: { type: 'string' },
    },
  });
  if (!values.corpus) throw new ConfigError('--corpus: expected one or more corpus folders, comma-separated');
  const floor = values.floor === undefined ? undefined : Number(values.floor);
  const featureNorm = { tau: Number(values.tau), priorSeconds: Number(values.prior), ...(floor === undefined ? {} : { quietFloor: floor }) };
  const options = { ...TRAIN_DEFAULTS, space: 'template' as const, featureNorm };
  // The prior as the trainer computes it (training part of every clip of the prior corpora).
  const priorDirs = (values['prior-corpus'] ?? values.corpus).split(',').filter(Boolean);
  const priorData = await loadCorpora(priorDirs);
  const g = createGenerator({ channels: 8, lookAhead: 2 }, 1);
  g.space = 'template';
  const fromPrior = prepareData(g, priorData.pairs, options);
  const spec = g.featureNorm as OnlineMvnSpec;
  if (values.heldout) {
    await heldoutLevels(values.heldout.split(',').filter(Boolean), spec);
    return;
  }
  const { pairs, pairSources } = values['prior-corpus'] ? await loadCorpora(values.corpus.split(',').filter(Boolean)) : priorData;
  // (featureNorm null: the generator keeps the spec just made, and its prior)
  const prepared = values['prior-corpus'] ? prepareData(g, pairs, { ...options, featureNorm: null, init: g }) : fromPrior;
  const start = melStart(g);
  const bySource = new Map<string, { lead: Group; trail: Group; pause: Group; sounding: Group; below: number; soundingValues: number }>();
  prepared.forEach((p, i) => {
    const span = speechSpan(pairs[i]);
    if (!span || !p.raw) return;
    const src = pairSources[i];
    if (!bySource.has(src)) bySource.set(src, { lead: group(), trail: group(), pause: group(), sounding: group(), below: 0, soundingValues: 0 });
    const s = bySource.get(src)!;
    const out = new OnlineMvn(spec).push(p.raw);
    const rows = p.raw.length / B;
    for (let r = 0; r < rows; r++) {
      const raw = p.raw.subarray(r * B, (r + 1) * B);
      let avg = 0;
      for (let c = 0; c < B; c++) avg += raw[c];
      const row = out.subarray(r * B, (r + 1) * B);
      const frame = (start + r) / MEL_PER_FRAME;
      if (avg / B > spec.gate) {
        if (frame >= span.first && frame <= span.last) {
          for (let c = 0; c < B; c++) if (row[c] < -(floor ?? 1.5)) s.below++;
          s.soundingValues += B;
        }
        continue;
      }
      if (frame < span.first - BEFORE) add(s.lead, row);
      else if (frame > span.last + AFTER) add(s.trail, row);
      else if (frame >= span.first && frame <= span.last) add(s.pause, row);
    }
  });
  process.stdout.write(`normaliser: tau ${spec.tau} s, prior ${spec.priorSeconds} s, gate ${spec.gate}, quiet floor ${spec.quietFloor ?? 'none'}; prior from ${priorDirs.map((d) => path.basename(d)).join(',')}\n`);
  for (const [src, s] of bySource) {
    process.stdout.write(`${src}\n  ${describe('leading silence', s.lead)}\n  ${describe('trailing silence', s.trail)}\n  ${describe('pauses in speech', s.pause)}\n`);
    process.stdout.write(`  sounding values in speech below -${floor ?? 1.5}: ${((100 * s.below) / Math.max(1, s.soundingValues)).toFixed(2)}%\n`);
  }
}

/** Mean band-average normalised value of the silence frames before the first and after the last speech of each held-out clip. */
async function heldoutLevels(dirs: string[], spec: OnlineMvnSpec): Promise<void> {
  const bySource = new Map<string, { lead: number[]; trail: number[]; worst: { id: string; lead: number; trail: number } | null }>();
  const rowsMean = (mel: Float32Array, frames: number[]): number => {
    let s = 0;
    let n = 0;
    for (const f of frames) {
      for (let r = f * MEL_PER_FRAME; r < (f + 1) * MEL_PER_FRAME && (r + 1) * B <= mel.length; r++) {
        for (let c = 0; c < B; c++) s += mel[r * B + c];
        n += B;
      }
    }
    return n > 0 ? s / n : Number.NaN;
  };
  for (const dir of dirs) {
    const { clips } = await readHeldout(dir);
    for (const c of clips) {
      const wav = readWav(new Uint8Array(await readFile(path.join(dir, c.wav))));
      const silent = new Set(c.silenceFrames);
      // (the track may run a frame or two past the audio: the normaliser then reads padding, as generator-quality does)
      const frames = Math.max(Math.floor((wav.samples.length / wav.sampleRate) * 25), Math.max(...c.silenceFrames) + 1);
      let first = -1;
      let last = -1;
      for (let t = 0; t < frames; t++) if (!silent.has(t)) (first < 0 && (first = t), (last = t));
      const lead = c.silenceFrames.filter((f) => f < first);
      const trail = c.silenceFrames.filter((f) => f > last);
      if (first < 0 || lead.length === 0 || trail.length === 0) continue;
      const mel = audioToMel(wav.samples, wav.sampleRate, 0, frames * MEL_PER_FRAME, spec);
      const src = clipSource(c);
      if (!bySource.has(src)) bySource.set(src, { lead: [], trail: [], worst: null });
      const s = bySource.get(src)!;
      const l = rowsMean(mel, lead);
      const t = rowsMean(mel, trail);
      s.lead.push(l);
      s.trail.push(t);
      if (!s.worst || t - l < s.worst.trail - s.worst.lead) s.worst = { id: c.id, lead: l, trail: t };
    }
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  process.stdout.write(`normaliser: tau ${spec.tau} s, prior ${spec.priorSeconds} s, gate ${spec.gate}, quiet floor ${spec.quietFloor ?? 'none'}; held-out silence (clips with both)\n`);
  for (const [src, s] of bySource) {
    const w = s.worst!;
    process.stdout.write(`${src} ${s.lead.length} clips: leading ${mean(s.lead).toFixed(2)}, trailing ${mean(s.trail).toFixed(2)}; largest drop ${w.id}: ${w.lead.toFixed(2)} -> ${w.trail.toFixed(2)}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`silence-levels: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
