/**
 * How much a channel (telephone band, noise at 20 dB SNR; generator-quality's own degradations)
 * moves the features a generator reads, raw log-mel against online-normalised
 * (worker/audio/online-norm.ts), over the frames with sound. Raw changes are in units of each
 * band's standard deviation (the clip's own statistics, which are also the normaliser's
 * prior), so both columns are in the same unit. A feature-level figure only: it says what the
 * normaliser removes, not what lip sync a model trained on it reaches.
 *   npx tsx scripts/corpus/feature-norm-channels.ts --wav speech.wav [--tau 3] [--prior 1] [--after 3]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { audioToMel } from '../../worker/audio/features.ts';
import { MEL } from '../../worker/audio/mel.ts';
import { DEFAULT_GATE, priorFromFrames, type OnlineMvnSpec } from '../../worker/audio/online-norm.ts';
import { ConfigError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { degrade, parseChannels } from '../../cli/commands/generator-quality-channels.ts';

const B = MEL.bins;

/** Mean absolute change per band value over frames [from, to) whose reference has sound. */
function change(a: Float32Array, b: Float32Array, ref: Float32Array, from: number, to: number, scale: number[] | null): number {
  let s = 0;
  let n = 0;
  for (let t = from; t < to; t++) {
    let avg = 0;
    for (let k = 0; k < B; k++) avg += ref[t * B + k];
    if (avg / B <= DEFAULT_GATE) continue;
    for (let k = 0; k < B; k++) s += Math.abs(a[t * B + k] - b[t * B + k]) / (scale ? scale[k] : 1);
    n += B;
  }
  return n ? s / n : NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { wav: { type: 'string' }, tau: { type: 'string', default: '3' }, prior: { type: 'string', default: '1' }, after: { type: 'string', default: '3' } } });
  if (!values.wav) throw new ConfigError('--wav: expected a speech recording (.wav)');
  const wav = readWav(new Uint8Array(await readFile(values.wav)));
  const frames = Math.floor((wav.samples.length / wav.sampleRate) * MEL.rate);
  const after = Math.round(Number(values.after) * MEL.rate);
  if (!(after > 0 && after < frames)) throw new ConfigError(`--after: expected seconds inside the ${(frames / MEL.rate).toFixed(1)} s clip, got ${values.after}`);
  const raw = audioToMel(wav.samples, wav.sampleRate, 0, frames);
  const prior = priorFromFrames(raw);
  const spec: OnlineMvnSpec = { kind: 'online-mvn', tau: Number(values.tau), priorSeconds: Number(values.prior), gate: DEFAULT_GATE, ...prior };
  const clean = audioToMel(wav.samples, wav.sampleRate, 0, frames, spec);
  process.stdout.write(`${values.wav}: ${(frames / MEL.rate).toFixed(1)} s, tau ${spec.tau} s, prior ${spec.priorSeconds} s\n`);
  process.stdout.write('| channel | frames | raw change (band stds) | normalised change (stds) |\n|---|---|---|---|\n');
  for (const ch of parseChannels('telephone,noise20')) {
    const y = degrade(wav.samples, wav.sampleRate, ch);
    const r = audioToMel(y, wav.sampleRate, 0, frames);
    const m = audioToMel(y, wav.sampleRate, 0, frames, spec);
    for (const [from, to] of [[0, Math.min(100, after)], [after, frames]]) {
      process.stdout.write(`| ${String(ch)} | ${from}-${to} | ${change(raw, r, raw, from, to, prior.std).toFixed(3)} | ${change(clean, m, raw, from, to, null).toFixed(3)} |\n`);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
