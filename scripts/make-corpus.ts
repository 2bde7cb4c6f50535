/**
 * The speech corpus recipe for the default generator (issue 4), one command:
 *   npx tsx scripts/make-corpus.ts --out <dir> [--seed N] [--count N] [--split train|heldout|wide]
 * Synthesises sentences with eSpeak NG (WebAssembly, npm devDependency; GPL-3.0, used only
 * here, as a separate process, to generate data) across voices, variants, speeds and
 * pitches, takes its phoneme events with sample positions, and writes per clip
 *   <id>.wav  the speech (PCM16, eSpeak's 22.05 kHz), with silence before and after
 *   <id>.npy  the landmark track [T,68,3] float32 at 25 fps in the template space
 * plus manifest.json (voices, texts, phoneme timings, closure and silence frames).
 * Same seed, count and split: the same files, byte for byte.
 * The held-out split uses voices and variants the training split never uses, and
 * sentences that no training utterance of the same seed contains.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../worker/errors.ts';
import { resampledLength } from '../worker/audio/features.ts';
import { writeNpy } from '../worker/io/npy.ts';
import { writeWav } from '../worker/io/wav.ts';
import { LANDMARK_DIM, NUM_LANDMARKS, gaussian, makeRng } from '../worker/landmarks/model.ts';
import { framesForSamples } from '../worker/landmarks/stream.ts';
import { restartSynth, synthesize, type SynthVoice } from './corpus/espeak.ts';
import { heldoutUtterances, trainUtterances } from './corpus/sentences.ts';
import { closureFrames, phonemesToTrack, silenceFrames, type TimedPhoneme } from './corpus/visemes.ts';

export type Split = 'train' | 'heldout' | 'wide';

const TRAIN_VOICES = ['en-us', 'en', 'en-gb-x-rp', 'en-029', 'en-gb-x-gbcwmd'];

/**
 * eSpeak NG's named variants (espeak-ng-data/voices/!v) for the `wide` split (issue 12: more
 * speaker variety): every variant of the data except the held-out split's m6, m7, f4, f5 and
 * those that are no speaking voice (whisper, whisperf, croak, Demonic, the robosoft/robot
 * ones, 'fast' which only changes speed).
 */
export const WIDE_VARIANTS = [
  '', 'm1', 'm2', 'm3', 'm4', 'm5', 'm8', 'f1', 'f2', 'f3', 'klatt', 'klatt2', 'klatt3', 'klatt4', 'klatt5', 'klatt6',
  'Alex', 'Alicia', 'Andrea', 'Andy', 'Annie', 'AnxiousAndy', 'Denis', 'Diogo', 'Gene', 'Gene2', 'Henrique', 'Hugo', 'Jacky',
  'Lee', 'Marco', 'Mario', 'Michael', 'Mike', 'Mr', 'Nguyen', 'Reed', 'Storm', 'Tweaky', 'adam', 'anika', 'announcer',
  'antonio', 'aunty', 'belinda', 'benjamin', 'boris', 'caleb', 'david', 'ed', 'edward', 'edward2', 'grandma', 'grandpa',
  'gustave', 'ian', 'iven', 'iven2', 'iven3', 'iven4', 'john', 'kaukovalta', 'linda', 'marcelo', 'max', 'michel', 'miguel',
  'mike2', 'norbert', 'pablo', 'paul', 'pedro', 'quincy', 'rob', 'robert', 'sandro', 'shelby', 'steph', 'steph2', 'steph3',
  'travis', 'victor', 'zac',
];

/** `wide` reads the training sentence stream from here on (flite-kal reads its start, svox-pico 2000-2299). */
export const WIDE_STREAM_OFFSET = 4000;

const VOICES: Record<Split, { voices: string[]; variants: string[]; rate: [number, number]; pitch: [number, number] }> = {
  train: { voices: TRAIN_VOICES, variants: ['', 'm1', 'm2', 'm3', 'm4', 'f1', 'f2', 'f3', 'klatt', 'klatt3'], rate: [130, 210], pitch: [25, 75] },
  heldout: { voices: ['en-gb-scotland', 'en-gb-x-gbclan', 'en-us-nyc'], variants: ['m6', 'm7', 'f4', 'f5'], rate: [130, 210], pitch: [25, 75] },
  // the training voices with every usable variant, wider speed and pitch; never a held-out voice or variant
  wide: { voices: TRAIN_VOICES, variants: WIDE_VARIANTS, rate: [110, 240], pitch: [5, 95] },
};

export interface ClipEntry {
  id: string;
  /** the leave-one-out group (generator-quality's per-source rows): the synthesiser */
  source: string;
  wav: string;
  landmarks: string;
  text: string;
  voice: string;
  rate: number;
  pitch: number;
  sampleRate: number;
  frames: number;
  phonemes: TimedPhoneme[];
  closureFrames: number[];
  silenceFrames: number[];
}

export interface CorpusManifest {
  kind: 'r2talker-speech-corpus';
  split: Split;
  seed: number;
  count: number;
  space: 'template';
  /** the rest pose [204]: all zeros, as the tracks are offsets from the neutral face */
  rest: number[];
  clips: ClipEntry[];
}

/** Bound on one run, so a typo cannot fill the disk (about 10 hours of speech). */
const MAX_COUNT = 20_000;

export async function makeCorpus(out: string, seed: number, count: number, split: Split, log: (s: string) => void = () => {}): Promise<CorpusManifest> {
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) throw new ConfigError(`--seed: expected an integer in [0, 2^31-1], got ${seed}`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw new ConfigError(`--count: expected an integer in [1, ${MAX_COUNT}], got ${count}`);
  const texts = split === 'train' ? trainUtterances(seed, count)
    : split === 'wide' ? trainUtterances(seed, WIDE_STREAM_OFFSET + count).slice(WIDE_STREAM_OFFSET)
    : heldoutUtterances(seed, count);
  if (texts.length < count) throw new ConfigError(`--count: only ${texts.length} distinct utterances could be made, asked for ${count}`);
  const rng = makeRng(seed ^ (split === 'train' ? 0x51ed : split === 'wide' ? 0x71de : 0xbeef));
  const pick = <T>(a: T[]): T => a[Math.floor(rng() * a.length)];
  await mkdir(out, { recursive: true });
  // Same seed, same files: eSpeak NG starts afresh, its clock pinned (corpus/espeak.ts).
  await restartSynth();
  const clips: ClipEntry[] = [];
  for (let i = 0; i < texts.length; i++) {
    const cfg = VOICES[split];
    const variant = pick(cfg.variants);
    const [r0, r1] = cfg.rate;
    const [p0, p1] = cfg.pitch;
    const v: SynthVoice = { voice: pick(cfg.voices) + (variant ? `+${variant}` : ''), rate: Math.round(r0 + (r1 - r0) * rng()), pitch: Math.round(p0 + (p1 - p0) * rng()) };
    const s = await synthesize(texts[i], v);
    // Silence before and after, with a faint noise floor (-70..-50 dB) like a real input.
    const lead = Math.round((0.25 + 0.45 * rng()) * s.sampleRate);
    const trail = Math.round((0.25 + 0.45 * rng()) * s.sampleRate);
    const noise = Math.pow(10, -(50 + 20 * rng()) / 20);
    const pcm = new Float32Array(lead + s.pcm.length + trail);
    pcm.set(s.pcm, lead);
    for (let k = 0; k < pcm.length; k++) pcm[k] = Math.max(-1, Math.min(1, pcm[k] + noise * gaussian(rng)));
    const l = lead / s.sampleRate;
    const total = pcm.length / s.sampleRate;
    const spoken = s.phonemes.map((p) => ({ id: p.id, start: p.start + l, end: p.end + l }));
    const phonemes: TimedPhoneme[] = [{ id: '', start: 0, end: spoken[0]?.start ?? total }, ...spoken];
    phonemes.push({ id: '', start: phonemes[phonemes.length - 1].end, end: total });
    const frames = framesForSamples(resampledLength(pcm.length, s.sampleRate));
    const track = phonemesToTrack(phonemes, frames);
    const id = `${split}-${String(i).padStart(5, '0')}`;
    await writeFile(path.join(out, `${id}.wav`), writeWav([pcm], s.sampleRate, 'pcm16'));
    await writeFile(path.join(out, `${id}.npy`), writeNpy({ dtype: 'float32', shape: [frames, NUM_LANDMARKS, 3], data: track.landmarks }));
    const round = (x: number) => Math.round(x * 1e5) / 1e5;
    clips.push({
      id, wav: `${id}.wav`, landmarks: `${id}.npy`, source: 'espeak-ng', text: texts[i], voice: v.voice, rate: v.rate, pitch: v.pitch, sampleRate: s.sampleRate, frames,
      phonemes: phonemes.map((p) => ({ id: p.id, start: round(p.start), end: round(p.end) })),
      closureFrames: closureFrames(phonemes, frames),
      silenceFrames: silenceFrames(phonemes, frames),
    });
    if ((i + 1) % 25 === 0 || i + 1 === texts.length) log(`${i + 1}/${texts.length} clips`);
  }
  const manifest: CorpusManifest = { kind: 'r2talker-speech-corpus', split, seed, count, space: 'template', rest: new Array<number>(LANDMARK_DIM).fill(0), clips };
  await writeFile(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 1));
  return manifest;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      count: { type: 'string' },
      split: { type: 'string', default: 'train' },
    },
  });
  if (!values.out) throw new ConfigError('--out: expected the output folder');
  const split = values.split;
  if (split !== 'train' && split !== 'heldout' && split !== 'wide') throw new ConfigError(`--split: expected train, heldout or wide, got ${JSON.stringify(split)}`);
  const count = Number(values.count ?? (split === 'heldout' ? '40' : '600'));
  const t0 = Date.now();
  const m = await makeCorpus(values.out, Number(values.seed), count, split, (s) => process.stderr.write(`${s}\n`));
  const frames = m.clips.reduce((a, c) => a + c.frames, 0);
  process.stdout.write(`wrote ${m.clips.length} ${split} clips (${(frames / 25 / 60).toFixed(1)} min, ${frames} frames) to ${values.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    process.stderr.write(`make-corpus: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
