/**
 * eSpeak NG (WebAssembly build from npm) as a data generator: text -> speech with the
 * sample position of every phoneme.
 *
 * Licence: @echogarden/espeak-ng-emscripten is GPL-3.0. It is a devDependency that only the
 * corpus recipe (scripts/make-corpus.ts, run as its own process) loads, to generate
 * training data; nothing under worker/, extension/ or cli/, and nothing webpack bundles,
 * imports it (tests/unit/corpus-licence.test.ts checks this). The trained weights it helps
 * produce are not a derivative of its code.
 */
import { ConfigError } from '../../worker/errors.ts';
import type { EspeakWorker } from '@echogarden/espeak-ng-emscripten';
import type { TimedPhoneme } from './visemes.ts';

export interface SynthVoice {
  /** eSpeak voice, optionally with a variant: 'en-us+f3' */
  voice: string;
  /** words per minute */
  rate: number;
  /** 0..99 */
  pitch: number;
}

export interface Synthesis {
  pcm: Float32Array;
  sampleRate: number;
  /** timed from the start of `pcm`, pauses as id '' */
  phonemes: TimedPhoneme[];
}

let worker: EspeakWorker | null = null;

/**
 * What the wasm build's clock reads while eSpeak NG starts. Its C library seeds rand(), which
 * drives the pitch flutter and breath noise of some variants, from time() there; with the real
 * clock the same text, voice and settings gave other audio from run to run (a held-out clip:
 * two thirds of its samples), and the held-out adoption test's closure count with it.
 */
const START_CLOCK_MS = 0;

async function startWorker(): Promise<EspeakWorker> {
  const factory = (await import('@echogarden/espeak-ng-emscripten')).default;
  const now = Date.now;
  Date.now = () => START_CLOCK_MS;
  try {
    const mod = await factory();
    return new mod.eSpeakNGWorker();
  } finally {
    Date.now = now;
  }
}

async function getWorker(): Promise<EspeakWorker> {
  worker ??= await startWorker();
  return worker;
}

/**
 * Starts eSpeak NG afresh: its random state, and whatever a voice or variant left set, return
 * to the start, so a corpus made after another one in the same process is the same corpus.
 */
export async function restartSynth(): Promise<void> {
  worker = await startWorker();
}

/** Bound on one synthesis (60 s at 22.05 kHz). */
const MAX_SAMPLES = 60 * 22050;

export async function synthesize(text: string, v: SynthVoice): Promise<Synthesis> {
  if (text.length === 0 || text.length > 2000) throw new ConfigError(`synth.text: expected 1..2000 characters, got ${text.length}`);
  if (!(v.rate >= 80 && v.rate <= 450)) throw new ConfigError(`synth.rate: expected 80..450 words per minute, got ${v.rate}`);
  if (!(v.pitch >= 0 && v.pitch <= 99)) throw new ConfigError(`synth.pitch: expected 0..99, got ${v.pitch}`);
  const w = await getWorker();
  if (w.set_voice(v.voice) !== 0) throw new ConfigError(`synth.voice: eSpeak NG has no voice ${JSON.stringify(v.voice)}`);
  w.set_rate(v.rate);
  w.set_pitch(v.pitch);
  const sampleRate = w.get_samplerate();
  const chunks: Int16Array[] = [];
  let total = 0;
  const marks: { id: string; ms: number }[] = [];
  w.synthesize(text, (audio, events) => {
    chunks.push(audio);
    total += audio.length;
    for (const e of events) if (e.type === 'phoneme') marks.push({ id: String(e.id ?? ''), ms: e.audio_position });
    return total > MAX_SAMPLES; // true aborts
  });
  if (total > MAX_SAMPLES) throw new ConfigError(`synth: "${text.slice(0, 40)}..." is longer than ${MAX_SAMPLES / sampleRate} s`);
  const pcm = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) pcm[at + i] = c[i] / 32768;
    at += c.length;
  }
  const duration = total / sampleRate;
  // Each phoneme lasts until the next event; the last until the end of the audio.
  const phonemes: TimedPhoneme[] = marks.map((m, i) => ({
    id: m.id,
    start: Math.min(duration, m.ms / 1000),
    end: Math.min(duration, i + 1 < marks.length ? marks[i + 1].ms / 1000 : duration),
  }));
  return { pcm, sampleRate, phonemes };
}
