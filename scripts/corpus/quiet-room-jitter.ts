/**
 * How still a generator's face stays in a quiet room: 2 s of uniform noise at about -60 dBFS
 * (48 kHz), made exactly as tests/gpu/landmarks-worker.test.ts makes it (its seed is 99), run
 * through the TypeScript pass; prints the largest frame-to-frame change of any landmark
 * number and the largest distance of any point from rest (template units; the GPU test holds
 * the change to <= 0.02 and the distance to <= 0.1):
 *   npx tsx scripts/corpus/quiet-room-jitter.ts --generator a.onnx[,b.onnx] [--seeds 99,1,2,3]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../worker/errors.ts';
import { LANDMARK_DIM } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { predictLandmarks } from '../../worker/landmarks/stream.ts';

const RATE = 48000;

/** The GPU test's room: a 32-bit LCG from `seed`, scaled to +-1e-3. */
export function quietRoom(seed: number, seconds = 2): Float32Array {
  const noise = new Float32Array(seconds * RATE);
  let s = seed;
  for (let i = 0; i < noise.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    noise[i] = (s / 2 ** 32 - 0.5) * 2e-3;
  }
  return noise;
}

/** Largest frame-to-frame change and largest point distance from rest of a template-space track. */
export function stillness(landmarks: Float32Array, frames: number): { change: number; rest: number } {
  let change = 0;
  let rest = 0;
  for (let t = 0; t < frames; t++) {
    for (let p = 0; p < LANDMARK_DIM / 3; p++) {
      const o = t * LANDMARK_DIM + 3 * p;
      rest = Math.max(rest, Math.hypot(landmarks[o], landmarks[o + 1], landmarks[o + 2]));
    }
    if (t > 0) for (let d = 0; d < LANDMARK_DIM; d++) change = Math.max(change, Math.abs(landmarks[t * LANDMARK_DIM + d] - landmarks[(t - 1) * LANDMARK_DIM + d]));
  }
  return { change, rest };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { generator: { type: 'string' }, seeds: { type: 'string', default: '99,1,2,3' } } });
  if (!values.generator) throw new ConfigError('--generator: expected one or more .onnx files, comma-separated');
  const seeds = values.seeds.split(',').map(Number);
  if (seeds.length === 0 || seeds.length > 100 || !seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32)) throw new ConfigError(`--seeds: expected up to 100 integers in [0, 2^32), got ${values.seeds}`);
  for (const file of values.generator.split(',').filter(Boolean)) {
    const g = generatorFromOnnx(new Uint8Array(await readFile(file)), file);
    const cells = seeds.map((seed) => {
      const r = predictLandmarks(g, quietRoom(seed), RATE);
      const s = stillness(r.landmarks, r.frames);
      return `seed ${seed}: change ${s.change.toFixed(4)} rest ${s.rest.toFixed(3)}`;
    });
    process.stdout.write(`${path.basename(file)}  ${cells.join(' | ')}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e: unknown) => {
    process.stderr.write(`quiet-room-jitter: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
