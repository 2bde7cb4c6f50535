/**
 * `r2talker demo`: the README's main job. Renders the built-in avatar
 * (assets/avatars/builtin.r2t, a synthetic person trained by our trainer) speaking the bundled
 * sentence (assets/demo/sentence.wav) into a WebM with the speech muxed in, through the same
 * path as `render --audio`, then says where the video is and how fast it rendered.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { BUILTIN_AVATAR_PATH } from '../../worker/avatar/builtin.node.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { ConfigError } from '../../worker/errors.ts';
import { createBackend } from '../backends.ts';
import type { FrameBackend } from '../render-track.ts';
import { renderVideo } from './render.ts';

export const DEMO_SENTENCE = fileURLToPath(new URL('../../assets/demo/sentence.wav', import.meta.url));

export type DemoBackend = 'auto' | 'cpu' | 'webgpu';

interface DemoOptions {
  out: string;
  frames?: string;
  backend: string;
  audio: string;
  size?: string;
}

/**
 * 'auto' takes WebGPU (a real GPU, or SwiftShader on machines without one) and falls back to
 * the CPU reference when no adapter can be had, saying why: the main job must finish on any
 * fresh machine.
 */
export async function demoBackend(name: string, avatar: Avatar, warn: (line: string) => void): Promise<FrameBackend> {
  if (name !== 'auto') return createBackend(name, avatar);
  try {
    return await createBackend('webgpu', avatar);
  } catch (e) {
    warn(`demo: WebGPU is not available (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); rendering on the CPU reference, which is slower`);
    return createBackend('cpu', avatar);
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('render the built-in avatar speaking a bundled sentence into <out>/talk.webm (video + audio)')
    .option('--out <dir>', 'output directory', 'out/demo')
    .option('--frames <n>', 'render only the first N frames (default: the whole sentence)')
    .option('--backend <name>', 'auto (WebGPU, else CPU), webgpu or cpu', 'auto')
    .option('--audio <wav>', 'speech to say instead of the bundled sentence', DEMO_SENTENCE)
    .option('--size <WxH>', 'render at this resolution instead of the avatar camera\'s')
    .action(async (opts: DemoOptions) => {
      if (!['auto', 'cpu', 'webgpu'].includes(opts.backend)) throw new ConfigError(`--backend: expected auto, webgpu or cpu, got ${JSON.stringify(opts.backend)}`);
      // The shipped file itself, through the load path a user's avatar takes.
      const avatarFile = BUILTIN_AVATAR_PATH;
      const video = path.join(opts.out, 'talk.webm');
      const summary = await renderVideo(
        { avatar: avatarFile, audio: opts.audio, out: video, frames: opts.frames, backend: 'cpu', size: opts.size, codec: 'vp9' },
        opts.audio,
        (avatar) => demoBackend(opts.backend, avatar, (line) => process.stderr.write(`${line}\n`)),
      );
      process.stdout.write(
        `demo: the built-in avatar is ${avatarFile}\n` +
          `demo: video with speech: ${path.resolve(video)} (${summary.videoSeconds.toFixed(2)} s, ${summary.bytes} bytes)\n` +
          `demo: rendered ${summary.frames} frames in ${summary.seconds.toFixed(1)} s = ${(summary.frames / summary.seconds).toFixed(2)} fps ` +
          `(${(summary.seconds / summary.videoSeconds).toFixed(1)} s per second of video) on ${summary.backend}\n`,
      );
    });
}
