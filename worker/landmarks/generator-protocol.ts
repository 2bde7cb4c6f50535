/**
 * The boundary of the landmark worker (generator-worker.ts): what it exposes through
 * comlink, the shapes that cross, and how errors survive the crossing.
 *
 * Comlink keeps only `message`, `name` and `stack` of a thrown Error, so the worker throws
 * the plain `{ name, code, message }` of `R2TalkerError.toJSON()` instead and the client
 * (`connectLandmarkWorker`) rebuilds the right class with `errorFromJSON`.
 */
import * as Comlink from 'comlink';
import type { LandmarkStats } from '../avatar/types.ts';
import { R2TalkerError, errorFromJSON, type ErrorCode } from '../errors.ts';
import type { LandmarkSpace } from './model.ts';
import type { LandmarkFrame } from './stream.ts';

/** A landmark frame of the live service. */
export interface LiveLandmarkFrame extends LandmarkFrame {
  /**
   * Seconds of input audio pushed when the frame became available: `emittedAt - time` is
   * the frame's latency from the audio (look-ahead + analysis window + resampler), without
   * compute time. Frames emitted by `finish()` carry the padded end of the stream.
   */
  emittedAt: number;
}

export interface GeneratorLoadOptions {
  /** retargets a template-space generator onto this avatar (ignored for avatar-space ones) */
  stats?: LandmarkStats | null;
  /** execution providers to try in order (default: the service's, e.g. ['webgpu', 'wasm']) */
  providers?: string[];
}

export interface ProviderAttempt {
  provider: string;
  /** null: it runs; else why it was given up (creation, warm-up or a later run failed) */
  error: string | null;
}

export interface GeneratorServiceInfo {
  loaded: boolean;
  /** the execution provider the session runs on, or null before `load` */
  executionProvider: string | null;
  attempts: ProviderAttempt[];
  space: LandmarkSpace | null;
  /** true when frames are retargeted with the load's landmark statistics */
  retargeted: boolean;
  fps: number;
  lookAheadFrames: number;
  modelBytes: number;
  /** the input rate fixed by the first push since load/reset, or null */
  sampleRate: number | null;
  framesEmitted: number;
  /** ORT session runs since load (one per push that completes frames) */
  runs: number;
}

/** Runtime settings of the browser worker; only before its first `load`. */
export interface WorkerRuntimeOptions {
  /** URL of ort-wasm-simd-threaded.jsep.wasm (default: next to the worker script) */
  wasmUrl?: string;
  /** wasm threads (default: 1, or up to 4 when the page is cross-origin isolated) */
  numThreads?: number;
  /** default providers (default: ['webgpu', 'wasm'] when navigator.gpu exists, else ['wasm']) */
  providers?: string[];
}

export interface WorkerRuntimeInfo {
  wasmUrl: string;
  numThreads: number;
  providers: string[];
  crossOriginIsolated: boolean;
  webgpuAvailable: boolean;
}

/** What generator-worker.ts exposes (every call is serialised in arrival order). */
export interface LandmarkWorkerApi {
  configure(options: WorkerRuntimeOptions): Promise<WorkerRuntimeInfo>;
  load(bytes: Uint8Array, options?: GeneratorLoadOptions): Promise<GeneratorServiceInfo>;
  push(pcm: Float32Array, sampleRate: number): Promise<LiveLandmarkFrame[]>;
  /** ends the stream: the frames still waiting for look-ahead (silence after the end) */
  finish(): Promise<LiveLandmarkFrame[]>;
  /** starts a new stream (times from 0 again; a new sample rate may be pushed) */
  reset(): Promise<void>;
  info(): Promise<GeneratorServiceInfo>;
  dispose(): Promise<void>;
}

/** An error as it crosses the boundary. */
export interface WireError {
  name: string;
  code: ErrorCode;
  message: string;
}

export function errorToWire(e: unknown): WireError {
  if (e instanceof R2TalkerError) return e.toJSON();
  const message = e instanceof Error ? e.message : String(e);
  return { name: 'R2TalkerError', code: 'INTERNAL', message };
}

function isWireError(v: unknown): v is WireError {
  return typeof v === 'object' && v !== null && typeof (v as WireError).code === 'string' && typeof (v as WireError).message === 'string';
}

export function errorFromWire(v: unknown): Error {
  if (isWireError(v)) return errorFromJSON(v);
  if (v instanceof Error) return v;
  return new R2TalkerError('INTERNAL', String(v));
}

/** Runs `fn`, rethrowing any failure as a `WireError` (worker side). */
export async function wireErrors<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw errorToWire(e);
  }
}

/** Client side: a typed proxy of the worker whose rejections are R2TalkerError classes again. */
export function connectLandmarkWorker(endpoint: Comlink.Endpoint): LandmarkWorkerApi & { release(): void } {
  const remote = Comlink.wrap<LandmarkWorkerApi>(endpoint);
  const call = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (e) {
      throw errorFromWire(e);
    }
  };
  return {
    configure: (o) => call(remote.configure(o)),
    load: (bytes, o) => call(remote.load(bytes, o)),
    push: (pcm, rate) => call(remote.push(pcm, rate)),
    finish: () => call(remote.finish()),
    reset: () => call(remote.reset()),
    info: () => call(remote.info()),
    dispose: () => call(remote.dispose()),
    release: () => remote[Comlink.releaseProxy](),
  };
}
