/**
 * `r2talker render`: an avatar driven by a landmark track (PNG frames into a directory) or by
 * speech (a WebM with the audio muxed in, landmarks predicted by the avatar's own generator
 * or the default one). Video frame t shows landmark frame t, stamped t*40 ms.
 */
import type { Command } from 'commander';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { openFileSource } from '../../worker/avatar/source.node.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { readWav } from '../../worker/io/wav.ts';
import { LANDMARK_DIM, LANDMARK_FPS, NUM_LANDMARKS } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { readInputFile, writeFileAtomic } from '../files.ts';
import { progressBar } from '../progress.ts';
import { createBackend, parseQuality } from '../backends.ts';
import { parseSize, renderFrames, renderTrack, scaleAvatar, trackFrames, type BackendName, type FrameBackend } from '../render-track.ts';
import { WebmEncoder } from '../video/webm-encoder.ts';
import type { VideoCodec } from '../video/encoder-protocol.ts';
import { predictTrack, resolveGeneratorBytes } from './landmarks.ts';
import { parseTransforms } from '../../worker/import/transforms.ts';
import { exactFrames } from '../../worker/metrics/exact-frames.ts';
import { checkSameCamera } from '../../worker/metrics/subject-eval.ts';
import { loadModelWeights } from '../../worker/model/weights.ts';
import { writeFramePng } from './frame-png.ts';

export interface RenderOptions {
  avatar: string;
  landmarks?: string;
  /** Evaluation mode: frame k = pose k of this transforms file + landmark frame k, exactly. */
  poses?: string;
  audio?: string;
  generator?: string;
  out: string;
  frames?: string;
  backend: BackendName;
  size?: string;
  codec: string;
  /** exact (default) or fast */
  quality?: string;
}

export function register(program: Command): void {
  program
    .command('render')
    .description('render an avatar: PNG frames from a landmark track (--landmarks), or a WebM talking-head video from speech (--audio)')
    .requiredOption('--avatar <file>', 'avatar file (.r2t)')
    .option('--landmarks <file>', 'landmark track .npy, [T,68,3] or [T,204]: writes frame_0000.png ... into --out')
    .option('--poses <transforms.json>', 'with --landmarks: evaluation rendering, frame k = pose k of this file + landmark frame k exactly (no smoothing, no ping-pong)')
    .option('--audio <wav>', 'speech .wav: predicts the landmarks (25 fps) and writes a .webm with the audio to --out')
    .option('--generator <onnx>', 'with --audio: use this landmark generator instead of the avatar\'s own or the default one')
    .requiredOption('--out <path>', 'output directory (--landmarks) or .webm file (--audio)')
    .option('--frames <n>', 'render only the first N frames')
    .option('--backend <name>', 'cpu (reference) or webgpu', 'cpu')
    .option('--size <WxH>', 'render at this resolution instead of the avatar camera\'s (intrinsics and background scaled)')
    .option('--codec <name>', 'with --audio: vp9 or vp8', 'vp9')
    .option('--quality <mode>', 'exact (the reference frames) or fast (a fraction of the multiply-adds, PSNR >= 38 dB against exact)', 'exact')
    .action(async (opts: RenderOptions) => {
      checkModes(opts);
      if (opts.audio) await renderVideo(opts, opts.audio);
      else if (opts.poses) await renderExactPngs(opts, opts.poses, opts.landmarks as string);
      else await renderPngs(opts, opts.landmarks as string);
    });
}

function checkModes(opts: RenderOptions): void {
  if (opts.audio && opts.landmarks) throw new ConfigError('--audio and --landmarks: expected one of them (speech -> video, or a landmark track -> PNG frames), got both');
  if (!opts.audio && !opts.landmarks) throw new ConfigError('render: expected --audio <speech.wav> (video) or --landmarks <track.npy> (PNG frames), got neither');
  const webm = /\.webm$/i.test(opts.out);
  if (opts.audio && !webm) throw new ConfigError(`--out: with --audio expected a .webm file, got ${JSON.stringify(opts.out)}`);
  if (opts.landmarks && webm) throw new ConfigError(`--out: with --landmarks expected a directory for PNG frames, got the video file ${JSON.stringify(opts.out)} (use --audio for video)`);
  if (opts.landmarks && opts.generator) throw new ConfigError('--generator: only used with --audio');
  if (opts.poses && !opts.landmarks) throw new ConfigError('--poses: needs --landmarks (frame k = pose k + landmark frame k)');
  if (opts.poses && opts.size) throw new ConfigError('--poses: renders with the avatar\'s own camera (the one the poses were tracked with); drop --size');
  parseQuality(opts.quality ?? 'exact');
  if (opts.codec !== 'vp9' && opts.codec !== 'vp8') throw new ConfigError(`--codec: expected vp9 or vp8, got ${JSON.stringify(opts.codec)}`);
}

async function loadAvatar(opts: RenderOptions): Promise<Avatar> {
  const source = await openFileSource(opts.avatar);
  const bar = progressBar('loading');
  const avatar = await readAvatar(source, { onProgress: (d, t) => bar.update(d, t, 'avatar') }).finally(() => {
    bar.stop();
    return source.close();
  });
  if (!opts.size) return avatar;
  const { width, height } = parseSize(opts.size);
  return scaleAvatar(avatar, width, height);
}

async function renderPngs(opts: RenderOptions, landmarks: string): Promise<void> {
  if (opts.size) parseSize(opts.size);
  const avatar = await loadAvatar(opts);
  const npy = readNpy(await readInputFile(landmarks, 'landmarks'));
  const frames = trackFrames(npy.shape, avatar.config.condition.numLandmarks);
  const track = npy.data instanceof Float32Array ? npy.data : npy.data instanceof BigInt64Array ? Float32Array.from(npy.data, Number) : Float32Array.from(npy.data);
  const limit = parseLimit(opts.frames, frames);
  const backend = await createBackend(opts.backend, avatar, parseQuality(opts.quality ?? 'exact'));
  try {
    const summary = await renderTrack({ avatar, track, frames, limit, outDir: opts.out, backend, progress: progressBar('render') });
    process.stdout.write(
      `rendered ${summary.frames} frames (${avatar.camera.width}x${avatar.camera.height}) with ${backend.name} in ${summary.seconds.toFixed(2)} s ` +
        `(${(summary.frames / summary.seconds).toFixed(2)} fps) to ${opts.out}\n`,
    );
  } finally {
    backend.destroy();
  }
}

export interface VideoSummary {
  frames: number;
  /** wall-clock seconds spent rendering and encoding the frames */
  seconds: number;
  /** seconds of video */
  videoSeconds: number;
  backend: string;
  bytes: number;
}

/**
 * Speech -> WebM. `backendFor` lets a caller choose the backend once the avatar is loaded
 * (the demo falls back from WebGPU to the CPU); by default `opts.backend` names it.
 */
export async function renderVideo(
  opts: RenderOptions,
  audioFile: string,
  backendFor: (avatar: Avatar) => Promise<FrameBackend> = (a) => createBackend(opts.backend, a, parseQuality(opts.quality ?? 'exact')),
): Promise<VideoSummary> {
  if (opts.size) parseSize(opts.size);
  if (opts.frames !== undefined) parseLimit(opts.frames, 1);
  // The cheap checks first: a bad wav or a missing generator fails before Chromium starts.
  const wav = readWav(await readInputFile(audioFile, 'audio'));
  const avatar = await loadAvatar(opts);
  if (avatar.config.condition.numLandmarks !== NUM_LANDMARKS) {
    throw new ConfigError(`avatar: the generator predicts ${NUM_LANDMARKS} landmarks, the avatar expects ${avatar.config.condition.numLandmarks}`);
  }
  const { bytes, origin } = await resolveGeneratorBytes(avatar, opts.generator);
  const g = generatorFromOnnx(bytes, `generator (${origin})`);
  const predicted = await predictTrack(g, bytes, wav.samples, wav.sampleRate, avatar, 'onnx');
  if (predicted.landmarks.length !== predicted.frames * LANDMARK_DIM) {
    throw FormatError.input('generator.output', `expected ${predicted.frames * LANDMARK_DIM} values, got ${predicted.landmarks.length}`);
  }
  if (predicted.frames < 1) throw FormatError.input('audio', `expected at least ${1000 / LANDMARK_FPS} ms of speech, got ${wav.samples.length} samples`);
  const limit = parseLimit(opts.frames, predicted.frames);
  const { width, height } = avatar.camera;
  const backend = await backendFor(avatar);
  try {
    const encoder = await WebmEncoder.open({ width, height, fps: LANDMARK_FPS, codec: opts.codec as VideoCodec, audio: { channels: wav.channelData, sampleRate: wav.sampleRate } });
    try {
      const summary = await renderFrames({
        avatar,
        track: predicted.landmarks,
        frames: predicted.frames,
        limit,
        backend,
        progress: progressBar('render'),
        onFrame: (_i, rgba) => encoder.addFrame(rgba),
      });
      const result = await encoder.finish();
      await writeFileAtomic(opts.out, result.bytes);
      const seconds = summary.frames / LANDMARK_FPS;
      process.stdout.write(
        `rendered ${summary.frames} frames (${width}x${height}, ${seconds.toFixed(2)} s at ${LANDMARK_FPS} fps, landmarks from the ${origin} generator) ` +
          `with ${backend.name} in ${summary.seconds.toFixed(2)} s (${(summary.frames / summary.seconds).toFixed(2)} fps) to ${opts.out} ` +
          `(${opts.codec} + opus, ${result.bytes.length} bytes)\n`,
      );
      return { frames: summary.frames, seconds: summary.seconds, videoSeconds: seconds, backend: backend.name, bytes: result.bytes.length };
    } finally {
      await encoder.close();
    }
  } finally {
    backend.destroy();
  }
}

export function parseLimit(value: string | undefined, frames: number): number {
  if (value === undefined) return frames;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw FormatError.input('--frames', `expected a positive integer, got ${JSON.stringify(value)}`);
  return Math.min(n, frames);
}

/** Evaluation rendering: pose k + landmark frame k, written as frame_%04d.png. */
async function renderExactPngs(opts: RenderOptions, posesFile: string, landmarks: string): Promise<void> {
  let json: unknown;
  const bytes = await readInputFile(posesFile, 'poses');
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw FormatError.input(posesFile, `not valid JSON (${(e as Error).message})`);
  }
  let transforms: ReturnType<typeof parseTransforms>;
  try {
    transforms = parseTransforms(json);
  } catch (e) {
    throw e instanceof FormatError ? FormatError.input(posesFile, e.message) : e;
  }
  const npy = readNpy(await readInputFile(landmarks, 'landmarks'));
  const avatar = await loadAvatar(opts);
  const frames = trackFrames(npy.shape, avatar.config.condition.numLandmarks);
  if (frames !== transforms.frames) {
    throw FormatError.input('landmarks', `has ${frames} frames but ${posesFile} has ${transforms.frames} poses (evaluation rendering pairs them one to one)`);
  }
  checkSameCamera(avatar.camera, transforms.camera, posesFile);
  const track = npy.data instanceof Float32Array ? npy.data : npy.data instanceof BigInt64Array ? Float32Array.from(npy.data, Number) : Float32Array.from(npy.data);
  const limit = parseLimit(opts.frames, frames);
  const weights = loadModelWeights(avatar);
  const backend = await createBackend(opts.backend, avatar, parseQuality(opts.quality ?? 'exact'));
  const progress = progressBar('render');
  const { width, height } = avatar.camera;
  const started = performance.now();
  let i = 0;
  try {
    for (const input of exactFrames(weights, transforms.poses, track, frames, { eye: avatar.config.head.eyeInput ? transforms.eye : null })) {
      if (i >= limit) break;
      await writeFramePng(opts.out, i, await backend.render(input), width, height);
      i++;
      progress.update(i, limit, `frame ${i}/${limit}`);
    }
  } finally {
    progress.stop();
    backend.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`rendered ${i} frames (${width}x${height}, pose k + landmarks k) with ${backend.name} in ${seconds.toFixed(2)} s (${(i / seconds).toFixed(2)} fps) to ${opts.out}\n`);
}
