/**
 * `r2talker livekit-avatar`: the avatar worker for LiveKit (sdk/node/avatar-worker.ts). Joins
 * a room, renders with WebGPU in Node (the `webgpu` package: SwiftShader without a GPU, the
 * real one in production) or the CPU reference, and publishes face and voice. With --audio it
 * speaks that file; otherwise it serves a LiveKit Agents agent over the avatar protocol
 * (lk.audio_stream / lk.clear_buffer / lk.playback_started / lk.playback_finished).
 * Runs until the room disconnects it or it gets SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { readAvatar } from '../../worker/avatar/reader.ts';
import { openFileSource } from '../../worker/avatar/source.node.ts';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { ConfigError, FormatError } from '../../worker/errors.ts';
import { readWav } from '../../worker/io/wav.ts';
import { NUM_LANDMARKS } from '../../worker/landmarks/model.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { LiveKitAvatarWorker } from '../../sdk/node/avatar-worker.ts';
import { readInputFile } from '../files.ts';
import { resolveGeneratorBytes } from './landmarks.ts';

interface Options {
  url: string;
  token: string;
  avatar: string;
  audio?: string;
  loop?: boolean;
  backend: string;
  renderSide: string;
  fps: string;
  generator?: string;
  idle: boolean;
  seconds?: string;
}

/** The built-in avatar (assets/avatars/builtin.r2t): `--avatar builtin`. */
export const BUILTIN_AVATAR = 'builtin';

function intOption(name: string, value: string, lo: number, hi: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ConfigError(`${name}: expected an integer in [${lo}, ${hi}], got ${JSON.stringify(value)}`);
  return n;
}

async function loadAvatar(file: string): Promise<Avatar> {
  if (file === BUILTIN_AVATAR) return loadBuiltinAvatar();
  const source = await openFileSource(file);
  try {
    return await readAvatar(source);
  } finally {
    await source.close();
  }
}

export function register(program: Command): void {
  program
    .command('livekit-avatar')
    .description('join a LiveKit room as a talking head: speak --audio, or serve a LiveKit Agents agent (lk.audio_stream avatar protocol)')
    .requiredOption('--url <ws-url>', 'LiveKit server URL (ws:// or wss://)')
    .requiredOption('--token <jwt>', 'access token for the avatar participant (for an agent: with the lk.publish_on_behalf attribute)')
    .requiredOption('--avatar <file>', `avatar file (.r2t), or "${BUILTIN_AVATAR}" for the built-in avatar`)
    .option('--audio <wav>', 'speak this .wav instead of waiting for an agent')
    .option('--loop', 'with --audio: repeat it until stopped')
    .option('--backend <name>', 'auto (WebGPU when an adapter exists, else CPU) or cpu', 'auto')
    .option('--render-side <px>', 'longest side rendered (the avatar camera is downscaled by an integer factor)', '256')
    .option('--fps <n>', 'highest frame rate published', '25')
    .option('--generator <onnx>', "landmark generator instead of the avatar's own or the default one")
    .option('--no-idle', 'no idle blinks or head motion')
    .option('--seconds <n>', 'leave the room after this many seconds (for scripts and tests)')
    .action(async (opts: Options) => {
      if (opts.backend !== 'auto' && opts.backend !== 'cpu') throw new ConfigError(`--backend: expected auto or cpu, got ${JSON.stringify(opts.backend)}`);
      if (opts.loop && !opts.audio) throw new ConfigError('--loop: only used with --audio');
      const renderSide = intOption('--render-side', opts.renderSide, 16, 2048);
      const fps = intOption('--fps', opts.fps, 1, 60);
      const seconds = opts.seconds === undefined ? null : intOption('--seconds', opts.seconds, 1, 86_400);
      // Cheap checks first: a bad wav fails before the avatar is read or the GPU started.
      const wav = opts.audio ? readWav(await readInputFile(opts.audio, 'audio')) : null;
      if (wav && wav.samples.length < wav.sampleRate / 25) throw FormatError.input('audio', `expected at least 40 ms of speech, got ${wav.samples.length} samples`);
      const avatar = await loadAvatar(opts.avatar);
      if (avatar.config.condition.numLandmarks !== NUM_LANDMARKS) throw new ConfigError(`avatar: expects ${avatar.config.condition.numLandmarks} landmarks, the generators predict ${NUM_LANDMARKS}`);
      const { bytes, origin } = await resolveGeneratorBytes(avatar, opts.generator);
      const generator = generatorFromOnnx(bytes, `generator (${origin})`);
      const log = (l: string) => process.stderr.write(`${l}\n`);
      const worker = await LiveKitAvatarWorker.start({
        url: opts.url,
        token: opts.token,
        avatar,
        isDemo: false,
        generator,
        backend: opts.backend,
        renderMaxSide: renderSide,
        frameRate: fps,
        speech: wav ? { samples: wav.samples, sampleRate: wav.sampleRate, loop: !!opts.loop } : undefined,
        idleBlinks: opts.idle,
        idleHeadMotion: opts.idle,
        log,
      });
      const stop = () => void worker.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = seconds === null ? null : setTimeout(stop, seconds * 1000);
      await worker.done;
      if (timer) clearTimeout(timer);
      const s = worker.stats();
      process.stdout.write(`livekit-avatar: published ${s.framesPublished} frames (${s.width}x${s.height}, ${s.gpu}); ${s.segmentsFinished} speech segments played, ${s.interruptions} interruptions\n`);
      // rtc-node keeps native handles alive; the work is done.
      process.exit(0);
    });
}
