/**
 * Why does a generator miss bilabial closures? Per voice source of the given corpora:
 *   npx tsx scripts/corpus/closure-diagnosis.ts --generator <onnx>[,<onnx>...] --corpus <dir>[,<dir>...] [--clips N]
 * prints, for each generator:
 *  - `at d`: the closure rate (generator-quality's measure) read d frames away from each
 *    closure's centre, d = -2..+2: a model that closes, but early or late, peaks off 0;
 *  - `any+-1`: closures where any of the three centre frames is closed;
 *  - `depth`: mean predicted opening at the centres, as a share of the track's 5th-95th
 *    percentile range (the measure's threshold is 0.2), and the same for the true track;
 *  - `range`: predicted opening range over the true one (a model that hedges shrinks it, and a
 *    shrunk range also lifts the closures towards the middle);
 *  - `silence`: mean predicted opening in silence as a share of the range (where rest sits);
 *  - `first`: the closure rate (at 0) of each clip's first closure alone;
 *  - `gated`: share of closures whose own 40 ms of audio (the frame's four mel rows) has at least
 *    one row at or below the model's normaliser gate, the only rows its quiet floor can touch
 *    ('-' for a model without a normaliser).
 * With `--replay`, each clip is played twice in a row and the second playing is measured: the
 * online normaliser has then adapted to the voice before the first word, so a closure missed
 * only because the statistics were still the prior's would be closed there.
 * Uses the TypeScript forward pass (same numbers as onnxruntime to ~1e-6).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';
import { lipOpening } from '../../worker/landmarks/quality.ts';
import { readHeldout } from '../../cli/commands/generator-quality.ts';
import { audioToMel } from '../../worker/audio/features.ts';
import { MEL } from '../../worker/audio/mel.ts';
import { MEL_PER_FRAME, melFramesFor, melStart, type LandmarkGenerator } from '../../worker/landmarks/model.ts';
import { trackFromNpy } from '../../trainer/generator-pairs.ts';
import { clipSource } from '../../trainer/generator-corpus.ts';

const OFFSETS = [-2, -1, 0, 1, 2];

function range(x: Float32Array): { lo: number; span: number } {
  const s = Float32Array.from(x).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
  return { lo: at(0.05), span: at(0.95) - at(0.05) };
}

class Row {
  closures = 0;
  at = OFFSETS.map(() => 0);
  any = 0;
  depth = 0;
  truthDepth = 0;
  spanRatio = 0;
  clips = 0;
  silence = 0;
  silenceFrames = 0;
  firsts = 0;
  firstClosed = 0;
  gated = 0;
}

/** The clip as the measure plays it: once, or (replay) twice with the second playing's frames starting at `offset`. */
function played(pcm: Float32Array, sampleRate: number, replay: boolean): { pcm: Float32Array; offset: number } {
  if (!replay) return { pcm, offset: 0 };
  // Pad to whole frames so that the second playing's frames line up with the first's.
  const perFrame = sampleRate / 25;
  const frames = Math.ceil(pcm.length / perFrame);
  const len = Math.round(frames * perFrame);
  if (Math.abs(len - frames * perFrame) > 1e-9) throw new ConfigError(`--replay: sample rate ${sampleRate} is not a whole number of samples per frame`);
  const out = new Float32Array(2 * len);
  out.set(pcm);
  out.set(pcm, len);
  return { pcm: out, offset: frames };
}

/** Per landmark frame: whether any of its own four mel rows (4t-2..4t+1) is at or below `gate` (band average of raw log-mel). */
function gatedFrames(g: LandmarkGenerator, pcm: Float32Array, sampleRate: number, frames: number, gate: number): Uint8Array {
  const start = melStart(g);
  const rows = melFramesFor(g, frames);
  const mel = audioToMel(pcm, sampleRate, start, start + rows);
  const out = new Uint8Array(frames);
  for (let t = 0; t < frames; t++) {
    for (let r = MEL_PER_FRAME * t - 2; r <= MEL_PER_FRAME * t + 1; r++) {
      const i = r - start;
      if (i < 0 || i >= rows) continue;
      let s = 0;
      for (let c = 0; c < MEL.bins; c++) s += mel[i * MEL.bins + c];
      if (s / MEL.bins <= gate) out[t] = 1;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { generator: { type: 'string' }, corpus: { type: 'string' }, clips: { type: 'string', default: '1000' }, replay: { type: 'boolean', default: false } } });
  if (!values.generator || !values.corpus) throw new ConfigError('--generator and --corpus: expected one or more comma-separated files / folders');
  const perSource = Number(values.clips);
  if (!Number.isInteger(perSource) || perSource < 1) throw new ConfigError(`--clips: expected a positive integer, got ${values.clips}`);
  for (const file of values.generator.split(',')) {
    const g = generatorFromOnnx(new Uint8Array(await readFile(file)), file);
    const rows = new Map<string, Row>();
    for (const dir of values.corpus.split(',')) {
      const { clips } = await readHeldout(dir);
      for (const c of clips) {
        const src = clipSource(c);
        const row = rows.get(src) ?? new Row();
        rows.set(src, row);
        if (row.clips >= perSource) continue;
        row.clips++;
        const wav = readWav(new Uint8Array(await readFile(path.join(dir, c.wav))));
        const truth = trackFromNpy(new Uint8Array(await readFile(path.join(dir, c.landmarks))));
        const play = played(wav.samples, wav.sampleRate, values.replay);
        const pred = predictLandmarks(g, play.pcm, wav.sampleRate, null);
        const frames = Math.min(pred.frames - play.offset, truth.frames);
        const po = lipOpening(pred.landmarks.subarray(play.offset * 204), frames);
        const norm0 = g.featureNorm && g.featureNorm.kind === 'online-mvn' ? g.featureNorm : null;
        const gated = norm0 ? gatedFrames(g, wav.samples, wav.sampleRate, frames, norm0.gate) : null;
        const to = lipOpening(truth.landmarks, frames);
        const pr = range(po);
        const tr = range(to);
        const norm = (v: number) => (pr.span > 0 ? (v - pr.lo) / pr.span : 0);
        row.spanRatio += tr.span > 0 ? pr.span / tr.span : 0;
        for (const [i, f] of c.closureFrames.entries()) {
          if (f >= frames) continue;
          row.closures++;
          if (gated?.[f]) row.gated++;
          if (i === 0) {
            row.firsts++;
            if (norm(po[f]) < 0.2) row.firstClosed++;
          }
          OFFSETS.forEach((d, k) => {
            const t = Math.min(frames - 1, Math.max(0, f + d));
            if (norm(po[t]) < 0.2) row.at[k]++;
          });
          if ([-1, 0, 1].some((d) => norm(po[Math.min(frames - 1, Math.max(0, f + d))]) < 0.2)) row.any++;
          row.depth += norm(po[f]);
          row.truthDepth += tr.span > 0 ? (to[f] - tr.lo) / tr.span : 0;
        }
        for (const f of c.silenceFrames) {
          if (f >= frames) continue;
          row.silence += norm(po[f]);
          row.silenceFrames++;
        }
      }
    }
    process.stdout.write(`${path.basename(file)}\n`);
    process.stdout.write(`  ${'source'.padEnd(18)} ${'n'.padStart(5)} ${OFFSETS.map((d) => `at ${d > 0 ? '+' : ''}${d}`.padStart(7)).join('')} any+-1  depth truth  range silence   first  gated\n`);
    const gateKnown = !!(g.featureNorm && g.featureNorm.kind === 'online-mvn');
    for (const [src, r] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
      const pct = (n: number) => `${((100 * n) / Math.max(1, r.closures)).toFixed(1)}%`.padStart(7);
      process.stdout.write(
        `  ${src.padEnd(18)} ${String(r.closures).padStart(5)} ${r.at.map(pct).join('')}${pct(r.any)} ${(r.depth / Math.max(1, r.closures)).toFixed(3)} ${(r.truthDepth / Math.max(1, r.closures)).toFixed(3)} ${(r.spanRatio / Math.max(1, r.clips)).toFixed(3)} ${(r.silence / Math.max(1, r.silenceFrames)).toFixed(3)} ${`${r.firstClosed}/${r.firsts}`.padStart(7)} ${gateKnown ? pct(r.gated) : '      -'}\n`,
      );
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`closure-diagnosis: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
