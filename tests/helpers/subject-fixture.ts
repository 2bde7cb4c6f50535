/** A small, fully valid subject written through the real SubjectWriter, for reader/writer tests. */
import { join } from 'node:path';
import { tempDir } from './temp-dirs.ts';
import { folderSink } from '../../worker/subject/files.node.ts';
import { nodeImageCodec } from '../../worker/subject/images.node.ts';
import type { SubjectImage } from '../../worker/subject/images.ts';
import { SubjectWriter, referenceValStart } from '../../worker/subject/writer.ts';

export const FIXTURE_SIZE = 16;

function solid(w: number, h: number, channels: 3 | 4, value: (i: number, c: number) => number): SubjectImage {
  const data = new Uint8Array(w * h * channels);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = value(i, c);
  return { width: w, height: h, channels, data };
}

/** Frame k's 2-D landmarks: a face-sized ring of points shifted by k so every frame differs. */
export function fixtureLms(k: number): Float32Array {
  const out = new Float32Array(136);
  for (let i = 0; i < 68; i++) {
    out[i * 2] = 8 + 4 * Math.cos(i / 5) + k * 0.1;
    out[i * 2 + 1] = 8 + 4 * Math.sin(i / 5);
  }
  return out;
}

export function fixtureCondition(k: number): Float32Array {
  return Float32Array.from({ length: 204 }, (_, i) => Math.sin(i + k) * 0.1);
}

export function fixtureTransform(k: number): number[] {
  return [1, 0, 0, 0.01 * k, 0, 1, 0, 0, 0, 0, 1, 1.2, 0, 0, 0, 1];
}

/** Writes `frames` frames (reference split) into a fresh temp folder and returns its path. */
export async function writeFixtureSubject(frames = 6, size = FIXTURE_SIZE, dir?: string): Promise<string> {
  const out = dir ?? join(tempDir('subject-'), 'subject');
  const w = new SubjectWriter(await folderSink(out), nodeImageCodec, { width: size, height: size, focal: 20 });
  await w.writeBackground(solid(size, size, 3, (_, c) => 40 + c * 10));
  const valStart = referenceValStart(frames);
  for (let k = 0; k < frames; k++) {
    await w.addFrame({
      split: k < valStart ? 'train' : 'val',
      imgId: k,
      audId: k,
      transform: fixtureTransform(k),
      eyeRatio: k === 0 ? undefined : 0.2 + 0.01 * k,
      lms: fixtureLms(k),
      condition: fixtureCondition(k),
      ori: solid(size, size, 3, (i) => (i * 7 + k) & 255),
      gt: solid(size, size, 3, (i) => (i * 5 + k) & 255),
      parsing: solid(size, size, 3, (i, c) => (i < (size * size) / 2 ? [0, 0, 255][c] : 255)),
      torso: solid(size, size, 4, (i, c) => (c === 3 ? (i >= (size * size) / 2 ? 255 : 0) : 100)),
    });
  }
  await w.finish();
  return out;
}
