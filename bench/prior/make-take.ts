/**
 * A camera-like take of a synthetic person for `r2talker prepare` (the create-avatar e2e's take,
 * without the browser): seed 9's 100 frames at 192 px then 3 s of it silent (its quietest frame),
 * looped 4 times (28 s, over prepare's 20 s minimum), as numbered JPEGs and a WAV.
 *
 *   npx tsx bench/prior/make-take.ts <dir>
 *   npx tsx cli/r2talker.ts prepare --frames <dir>/frames --audio <dir>/mic.wav --size 128 --out <dir>/take
 *   npx tsx bench/prior/compare.ts <dir>/take --iters 2000
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quietestFrame } from '../../tests/helpers/mouth-darkening.ts';
import { writeSynthSubject } from '../../tests/helpers/synth-fixture.ts';
import { readWav, writeWav } from '../../worker/io/wav.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: make-take.ts <dir>');
const SILENT = 75;
const LOOPS = 4;
const dir = await writeSynthSubject({ size: 192, frames: 100, valFrames: 10, seed: 9 }, path.join(out, 'synth'), 2);
const wav = readWav(new Uint8Array(readFileSync(path.join(dir, 'aud.wav'))));
const perFrame = wav.sampleRate / 25;
const quietest = quietestFrame(wav.samples, perFrame, 100);
const frames = path.join(out, 'frames');
mkdirSync(frames, { recursive: true });
let n = 0;
for (let l = 0; l < LOOPS; l++) {
  for (let i = 0; i < 100; i++) copyFileSync(path.join(dir, 'ori_imgs', `${i}.jpg`), path.join(frames, `${n++}.jpg`));
  for (let i = 0; i < SILENT; i++) copyFileSync(path.join(dir, 'ori_imgs', `${quietest}.jpg`), path.join(frames, `${n++}.jpg`));
}
const clip = new Float32Array(wav.samples.length + SILENT * perFrame);
clip.set(wav.samples);
const all = new Float32Array(clip.length * LOOPS);
for (let l = 0; l < LOOPS; l++) all.set(clip, l * clip.length);
writeFileSync(path.join(out, 'mic.wav'), writeWav([all], wav.sampleRate));
console.log(`${out}: ${n} frames, ${(all.length / wav.sampleRate).toFixed(1)} s`);
