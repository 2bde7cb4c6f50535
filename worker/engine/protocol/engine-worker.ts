/**
 * Engine host (the extension's engine iframe, the SDK's page) -> engine worker, called through
 * comlink. Types only: the worker exposes an object of this shape and the host holds a
 * `Comlink.Remote<EngineWorkerApi>`.
 */
import type { QualityState } from '../quality-governor.ts';
import type { SessionRequest } from './session.ts';

export interface EngineOptions {
  avatarId: string | null;
  idleBlinks: boolean;
  idleHeadMotion: boolean;
  /** 'auto': WebGPU where the render worker gets an adapter, else the CPU reference. */
  backend: 'auto' | 'cpu';
  /** Longest side the avatar is rendered at (the session scales it to the track size). */
  renderMaxSide: number;
  /** Exact or fast mode (absent: exact); 'auto' goes fast when exact cannot hold the frame rate. */
  quality?: 'auto' | 'exact' | 'fast';
  /** Render threads of the CPU fallback's fast frames (RendererChoice.cpuThreads; absent: one per core). */
  cpuThreads?: number;
}

/** The chosen avatar's file as the engine page found it (IndexedDB or the service worker). */
export interface AvatarPayload {
  id: string | null;
  /** The .r2t bytes, or null for the built-in avatar (builtin.r2t). */
  bytes: ArrayBuffer | null;
  /** Why the chosen avatar is not available (deleted, unreadable storage), or null. */
  problem: string | null;
  /**
   * The name the user gave it in the library, shown instead of the name inside the file (a
   * rename leaves the file untouched, so an export stays byte for byte what was imported).
   */
  name?: string | null;
}


export interface EngineStatus {
  /** Which frame source drives sessions: "webgpu", "cpu-reference", "placeholder" or "none" (not started). */
  source: string;
  /** Name of the avatar being rendered. */
  avatar: string | null;
  /** The WebGPU adapter in use, or null. */
  adapter: string | null;
  /** Why WebGPU is not used, or null. */
  gpuProblem: string | null;
  /** Human-readable problem to show in the popup, or null. */
  problem: string | null;
  sessions: number;
  renderFps: number;
  /** Measured audio -> face latency (ms) and the mic delay applied (ms), from the shim; null before any. */
  lagMs: number | null;
  micDelayMs: number | null;
  /** How many times the renderer recreated a lost GPU device. */
  gpuRecoveries: number;
  /** GPU memory the renderer holds, bytes (0 on the CPU path). */
  gpuBytes: number;
  /** Seconds since the last mic chunk reached the engine, or null when none ever arrived. */
  micIdleSec: number | null;
  /** The render mode running now (fast when exact cannot hold the frame rate and fast measures faster); absent before a renderer runs. */
  quality?: 'exact' | 'fast';
  /** Why that mode runs, with the measured frame times (quality-governor.ts); absent before a renderer runs. */
  qualityState?: QualityState;
}

export interface EngineWorkerApi {
  setOptions(options: EngineOptions): Promise<EngineStatus>;
  /** The chosen avatar's bytes (copied, not transferred). */
  setAvatar(avatar: AvatarPayload): Promise<EngineStatus>;
  /** `port` must be passed with `Comlink.transfer(port, [port])`. */
  openSession(sessionId: string, request: SessionRequest, port: MessagePort): Promise<void>;
  closeSession(sessionId: string): Promise<void>;
  status(): Promise<EngineStatus>;
  /** Test hook: destroys the render worker's GPU device; resolves false on the CPU path. */
  loseDevice(): Promise<boolean>;
}
