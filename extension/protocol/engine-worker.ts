/**
 * Engine iframe -> engine worker, called through comlink. Types only: the worker exposes an
 * object of this shape and the iframe holds a `Comlink.Remote<EngineWorkerApi>`.
 */
import type { EngineOptions } from './bridge-engine.ts';
import type { SessionRequest } from './shim-bridge.ts';

export interface EngineStatus {
  /** Which frame source drives sessions ("placeholder" until a real renderer is wired in). */
  source: string;
  /** Human-readable problem to show in the popup, or null. */
  problem: string | null;
  sessions: number;
}

export interface EngineWorkerApi {
  setOptions(options: EngineOptions): Promise<EngineStatus>;
  /** `port` must be passed with `Comlink.transfer(port, [port])`. */
  openSession(sessionId: string, request: SessionRequest, port: MessagePort): Promise<void>;
  closeSession(sessionId: string): Promise<void>;
  status(): Promise<EngineStatus>;
}
