/**
 * Render worker: reads the chosen avatar and hosts its renderer (WebGPU, or the CPU
 * reference) off the engine worker's thread, so a slow render never delays the pacing of the
 * output frames. Driven through comlink by RemoteRenderer.
 */
import * as Comlink from 'comlink';
import { fetchBuiltinAvatar } from '../avatar/builtin.ts';
import { readAvatar } from '../avatar/reader.ts';
import type { Avatar } from '../avatar/types.ts';
import { AvatarRenderer, type RendererChoice, type RendererInfo } from './avatar-renderer.ts';
import type { RenderInput, RenderedFrame } from './interfaces.ts';
import type { QualityState } from './quality-governor.ts';
import type { BandPort, BandReply, PoolHost } from './render-pool.ts';

export interface RenderInit {
  /** The .r2t file of the chosen avatar, or null for the built-in avatar (builtin.r2t beside this script). */
  avatarBytes: ArrayBuffer | null;
  choice: RendererChoice;
  /** Test hook: the CPU path's band worker script beside this one (default render-band-worker.js). */
  bandScript?: string;
}

export interface RenderInitResult {
  info: RendererInfo;
  /** True when the built-in avatar renders (none chosen, or the chosen one was unreadable). */
  isBuiltin: boolean;
  /** The avatar's embedded landmark generator (ONNX bytes), or null. */
  generator: Uint8Array | null;
  /** Why the chosen avatar is not the one rendering (corrupt file), or null. */
  avatarProblem: string | null;
}

export interface RenderWorkerApi {
  init(params: RenderInit): Promise<RenderInitResult>;
  render(input: RenderInput): Promise<RenderedFrame>;
  /** Test hook: destroys the GPU device (as a driver reset does); false on the CPU path. */
  loseDevice(): boolean;
  recoveries(): number;
  /** GPU bytes the renderer holds (0 on the CPU path), for the soak test's leak bound. */
  gpuBytes(): number;
  /** The mode running now, why, and the frame times behind it (issue 14); null before a renderer runs. */
  quality(): QualityState | null;
  destroy(): void;
}

let renderer: AvatarRenderer | null = null;

/**
 * The CPU fallback's extra render threads (render-pool.ts): band workers started from
 * render-band-worker.js beside this script. A worker that cannot start (a bundle without it, a
 * browser without nested workers) fails the pool, and the renderer goes on in one thread.
 */
const poolHost = (script: string): PoolHost => ({
  cores: typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1,
  spawn(): BandPort {
    let ended = false;
    const port: BandPort = {
      onReply: null,
      onFailure: null,
      post(req) {
        if (!ended) w?.postMessage(req);
      },
      terminate() {
        ended = true;
        w?.terminate();
      },
    };
    const fail = (why: string): void => {
      if (ended) return;
      ended = true;
      w?.terminate();
      // Reported on a later task: the pool sets onFailure after spawn() returns.
      setTimeout(() => port.onFailure?.(why), 0);
    };
    let w: Worker | null = null;
    try {
      w = new Worker(new URL(script, self.location.href));
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
      return port;
    }
    w.onmessage = (e: MessageEvent<BandReply>) => port.onReply?.(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      fail(e.message || 'the worker script failed to load or threw');
    };
    w.onmessageerror = () => fail('a message could not be read');
    return port;
  },
});

async function load(bytes: ArrayBuffer | null): Promise<{ avatar: Avatar; isBuiltin: boolean; problem: string | null }> {
  if (!bytes) return { avatar: await fetchBuiltinAvatar(self.location.href), isBuiltin: true, problem: null };
  try {
    return { avatar: await readAvatar(new Uint8Array(bytes)), isBuiltin: false, problem: null };
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { avatar: await fetchBuiltinAvatar(self.location.href), isBuiltin: true, problem: `The chosen avatar could not be read (${detail}); showing the built-in avatar.` };
  }
}

const api: RenderWorkerApi = {
  async init(params) {
    renderer?.destroy();
    renderer = null;
    const { avatar, isBuiltin, problem } = await load(params.avatarBytes);
    // The built-in avatar carries its landmark statistics, so no demo track is needed.
    renderer = await AvatarRenderer.create(avatar, false, params.choice, {}, poolHost(params.bandScript ?? 'render-band-worker.js'));
    return { info: renderer.info, isBuiltin, generator: avatar.generator, avatarProblem: problem };
  },
  async render(input) {
    if (!renderer) throw new Error('render worker: init() first');
    const frame = await renderer.render(input);
    return frame.kind === 'rgba' ? Comlink.transfer(frame, [frame.data.buffer]) : Comlink.transfer(frame, [frame.bitmap]);
  },
  loseDevice() {
    return renderer?.loseDevice() ?? false;
  },
  gpuBytes() {
    return renderer?.gpuBytes ?? 0;
  },
  quality() {
    return renderer?.qualityState ?? null;
  },
  recoveries() {
    return renderer?.recoveries ?? 0;
  },
  destroy() {
    renderer?.destroy();
    renderer = null;
  },
};

Comlink.expose(api);
