/**
 * `r2talker landmarks --audio <speech.wav> [--avatar <a.r2t>] --out <lm.npy>`: the predicted
 * landmark track [T,68,3] float32 at 25 fps, from the avatar's own generator when it has
 * one, else the default generator (retargeted with the avatar's landmark statistics).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import * as ort from 'onnxruntime-web';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { openFileSource } from '../../worker/avatar/source.node.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { audioToMel, resampledLength } from '../../worker/audio/features.ts';
import { writeNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { LANDMARK_DIM, NUM_LANDMARKS, melFramesFor, melStart, type LandmarkGenerator } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { OnnxGenerator } from '../../worker/landmarks/onnx-runner.ts';
import { retargetFrames } from '../../worker/landmarks/retarget.ts';
import { framesForSamples, predictLandmarks } from '../../worker/landmarks/stream.ts';
import { readInputFile, writeFileAtomic } from '../files.ts';

export const DEFAULT_GENERATOR_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../assets/generator/default.onnx');

export async function loadAvatarFile(file: string): Promise<Avatar> {
  const source = await openFileSource(file);
  try {
    return await readAvatar(source);
  } finally {
    await source.close?.();
  }
}

/** The generator bytes to use: an explicit file, the avatar's own, or the shipped default. */
export async function resolveGeneratorBytes(avatar: Avatar | null, explicit?: string): Promise<{ bytes: Uint8Array; origin: string }> {
  if (explicit) return { bytes: await readInputFile(explicit, 'generator'), origin: explicit };
  if (avatar?.generator) return { bytes: avatar.generator, origin: 'avatar' };
  try {
    return { bytes: await readInputFile(DEFAULT_GENERATOR_PATH, 'generator'), origin: 'default' };
  } catch (e) {
    throw new ConfigError(`generator: the avatar has none and the default ${DEFAULT_GENERATOR_PATH} is missing (train one with scripts/make-corpus.ts)`, { cause: e });
  }
}

/** Whole-file prediction with onnxruntime-web (wasm, one thread) or the TypeScript pass. */
export async function predictTrack(g: LandmarkGenerator, bytes: Uint8Array, pcm: Float32Array, sampleRate: number, avatar: Avatar | null, engine: 'onnx' | 'ts'): Promise<{ frames: number; landmarks: Float32Array }> {
  const stats = avatar?.landmarkStats ?? null;
  if (engine === 'ts') return predictLandmarks(g, pcm, sampleRate, stats);
  ort.env.wasm.numThreads = 1;
  const frames = framesForSamples(resampledLength(pcm.length, sampleRate));
  const start = melStart(g);
  const nMel = melFramesFor(g, frames);
  const mel = audioToMel(pcm, sampleRate, start, start + nMel, g.featureNorm);
  const session = await OnnxGenerator.create(ort, bytes);
  try {
    const r = await session.run(mel, nMel);
    return { frames: r.frames, landmarks: retargetFrames(g, r.landmarks, stats) };
  } finally {
    await session.release();
  }
}

interface LandmarksOptions {
  audio: string;
  avatar?: string;
  generator?: string;
  out: string;
  engine: string;
}

export function register(program: Command): void {
  program
    .command('landmarks')
    .description('predict a landmark track [T,68,3] (25 fps) from speech and write it as .npy')
    .requiredOption('--audio <wav>', 'speech (.wav: PCM16/24 or float32, mono or stereo, any rate)')
    .option('--avatar <file>', 'avatar (.r2t): its own generator, or its landmark statistics for the default one')
    .option('--generator <onnx>', 'use this generator instead')
    .requiredOption('--out <npy>', 'output .npy file')
    .option('--engine <name>', 'onnx (onnxruntime-web wasm) or ts (TypeScript forward pass)', 'onnx')
    .action(async (opts: LandmarksOptions) => {
      if (opts.engine !== 'onnx' && opts.engine !== 'ts') throw new ConfigError(`--engine: expected onnx or ts, got ${JSON.stringify(opts.engine)}`);
      const wav = readWav(await readInputFile(opts.audio, 'audio'));
      const avatar = opts.avatar ? await loadAvatarFile(opts.avatar) : null;
      const { bytes, origin } = await resolveGeneratorBytes(avatar, opts.generator);
      const g = generatorFromOnnx(bytes, `generator (${origin})`);
      const r = await predictTrack(g, bytes, wav.samples, wav.sampleRate, avatar, opts.engine);
      if (r.landmarks.length !== r.frames * LANDMARK_DIM) throw FormatError.input('generator.output', `expected ${r.frames * LANDMARK_DIM} values, got ${r.landmarks.length}`);
      await writeFileAtomic(opts.out, writeNpy({ dtype: 'float32', shape: [r.frames, NUM_LANDMARKS, 3], data: r.landmarks }));
      process.stdout.write(`wrote ${opts.out}: ${r.frames} frames (25 fps) from the ${origin} generator\n`);
    });
}
