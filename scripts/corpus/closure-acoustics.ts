/**
 * Where are the bilabial closures in the audio, compared with where the corpus says they are?
 *   npx tsx scripts/corpus/closure-acoustics.ts --corpus <dir>[,<dir>...] [--clips N] [--phones m,b,p]
 * For every m/b/p phoneme of the manifest, finds the 10 ms frame of least energy (80 mel bins,
 * 100-8000 Hz) within +-60 ms of the labelled segment's centre (the lips are sealed there: b/p
 * are silent or a voice bar, m is a low-energy nasal murmur) and prints per source: the median
 * and mean absolute offset of that minimum from the label (ms), the share within one landmark
 * frame (20 ms), and the dip: dB between the labelled centre and the loudest frame within
 * +-100 ms. A corpus whose labels sit on the acoustic closure has small offsets and deep dips
 * at the centre; labels placed by a forced aligner with coarse phone models drift, and a
 * generator trained on them learns to hedge (half-open lips) at closures. The last column
 * checks the labels globally: where speech energy first rises 20 dB above the leading
 * silence, against the first phoneme's labelled start.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { audioToMel, resampledLength } from '../../worker/audio/features.ts';
import { MEL } from '../../worker/audio/mel.ts';
import { clipSource } from '../../trainer/generator-corpus.ts';

interface Phone {
  id: string;
  start: number;
  end: number;
}

const BILABIAL = new Set(['m', 'b', 'p']);
const bare = (id: string) => id.replace(/[ˈˌːʰ]/g, '');

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { corpus: { type: 'string' }, clips: { type: 'string', default: '1000' }, phones: { type: 'string', default: 'm,b,p' } } });
  const phones = new Set(values.phones.split(','));
  if (![...phones].every((p) => BILABIAL.has(p))) throw new ConfigError(`--phones: expected some of m,b,p, got ${values.phones}`);
  if (!values.corpus) throw new ConfigError('--corpus: expected one or more comma-separated corpus folders');
  const perSource = Number(values.clips);
  if (!Number.isInteger(perSource) || perSource < 1) throw new ConfigError(`--clips: expected a positive integer, got ${values.clips}`);
  const rows = new Map<string, { clips: number; offsets: number[]; dips: number[]; onsets: number[] }>();
  for (const dir of values.corpus.split(',')) {
    const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { clips?: { wav: string; source?: string; phonemes?: Phone[] }[] };
    if (!Array.isArray(m.clips)) throw new ConfigError(`${dir}/manifest.json: expected clips`);
    for (const c of m.clips) {
      const src = clipSource(c);
      const row = rows.get(src) ?? { clips: 0, offsets: [], dips: [], onsets: [] };
      rows.set(src, row);
      if (row.clips >= perSource || !Array.isArray(c.phonemes)) continue;
      row.clips++;
      const wav = readWav(new Uint8Array(await readFile(path.join(dir, c.wav))));
      const n = Math.floor(resampledLength(wav.samples.length, wav.sampleRate) / MEL.hop);
      const mel = audioToMel(wav.samples, wav.sampleRate, 0, n);
      const energy = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        let e = 0;
        for (let b = 0; b < MEL.bins; b++) e += Math.exp(mel[t * MEL.bins + b]);
        energy[t] = 10 * Math.log10(e + 1e-12);
      }
      // Speech onset: the first frame 20 dB above the leading silence, against the first phoneme.
      const first = c.phonemes.find((p) => p.id !== '');
      if (first && first.start >= 0.1) {
        const floor = energy.slice(0, Math.max(1, Math.floor(first.start * MEL.rate) - 5)).reduce((a, b) => Math.max(a, b), -Infinity);
        const on = energy.findIndex((e, t) => t > 0 && e > floor + 20);
        if (on >= 0) row.onsets.push(on * 10 - first.start * 1000);
      }
      for (const p of c.phonemes) {
        if (!phones.has(bare(p.id))) continue;
        const centre = Math.round(((p.start + p.end) / 2) * MEL.rate);
        if (centre - 10 < 0 || centre + 10 >= n) continue;
        let best = centre;
        for (let t = centre - 6; t <= centre + 6; t++) if (energy[t] < energy[best]) best = t;
        let loud = -Infinity;
        for (let t = centre - 10; t <= centre + 10; t++) loud = Math.max(loud, energy[t]);
        row.offsets.push((best - centre) * 10);
        row.dips.push(loud - energy[centre]);
      }
    }
  }
  const median = (x: number[]) => {
    const s = [...x].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : NaN;
  };
  process.stdout.write(`${'source'.padEnd(18)} clips closures |offset| median/mean ms  within 20 ms  mean offset ms  dip at label dB  speech onset - label ms (median)\n`);
  for (const [src, r] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    const abs = r.offsets.map(Math.abs);
    const within = abs.filter((v) => v <= 20).length / Math.max(1, abs.length);
    process.stdout.write(
      `${src.padEnd(18)} ${String(r.clips).padStart(5)} ${String(r.offsets.length).padStart(8)} ${median(abs).toFixed(0).padStart(10)} / ${(abs.reduce((a, b) => a + b, 0) / Math.max(1, abs.length)).toFixed(1).padStart(5)}  ${(100 * within).toFixed(1).padStart(10)}%  ${(r.offsets.reduce((a, b) => a + b, 0) / Math.max(1, r.offsets.length)).toFixed(1).padStart(14)}  ${median(r.dips).toFixed(1).padStart(14)}  ${median(r.onsets).toFixed(0).padStart(10)}\n`,
    );
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`closure-acoustics: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
