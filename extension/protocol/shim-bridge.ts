/**
 * MAIN-world shim <-> ISOLATED-world bridge, over `window.postMessage` on the page's own
 * window. Both worlds see every message, and so does the page: nothing here is secret (the
 * page owns the MAIN world anyway). Receivers accept only `event.source === window` and the
 * `NAMESPACE` tag, so other frames cannot inject messages.
 */

import { isSessionRequest, type FrameTransport, type SessionRequest } from '../../worker/engine/protocol/session.ts';

// The engine's session request, re-exported for the shim and the bridge.
export { isSessionRequest, type FrameTransport, type SessionRequest };

export const NAMESPACE = '__r2talker__';

/** What the bridge tells the shim about the user's settings and the extension. */
export interface ShimConfig {
  enabled: boolean;
  output: { width: number; height: number; frameRate: number };
  lipSyncOffsetMs: number;
  /** Dynamic (use_dynamic_url) URL of the AudioWorklet module that taps the mic. */
  micWorkletUrl: string;
}

export type ShimToBridge =
  | { ns: typeof NAMESPACE; dir: 'to-bridge'; kind: 'hello' }
  | { ns: typeof NAMESPACE; dir: 'to-bridge'; kind: 'open-session'; sessionId: string; request: SessionRequest }
  | { ns: typeof NAMESPACE; dir: 'to-bridge'; kind: 'close-session'; sessionId: string };

/** `session-port` carries the session's MessagePort in `event.ports[0]`. */
export type BridgeToShim =
  | { ns: typeof NAMESPACE; dir: 'to-shim'; kind: 'config'; config: ShimConfig }
  | { ns: typeof NAMESPACE; dir: 'to-shim'; kind: 'session-port'; sessionId: string }
  | { ns: typeof NAMESPACE; dir: 'to-shim'; kind: 'session-error'; sessionId: string; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function isShimToBridge(v: unknown): v is ShimToBridge {
  if (!isRecord(v) || v.ns !== NAMESPACE || v.dir !== 'to-bridge') return false;
  switch (v.kind) {
    case 'hello':
      return true;
    case 'open-session':
      return typeof v.sessionId === 'string' && isSessionRequest(v.request);
    case 'close-session':
      return typeof v.sessionId === 'string';
    default:
      return false;
  }
}

export function isBridgeToShim(v: unknown): v is BridgeToShim {
  if (!isRecord(v) || v.ns !== NAMESPACE || v.dir !== 'to-shim') return false;
  switch (v.kind) {
    case 'config':
      return isRecord(v.config) && typeof v.config.enabled === 'boolean' && typeof v.config.micWorkletUrl === 'string';
    case 'session-port':
    case 'session-error':
      return typeof v.sessionId === 'string';
    default:
      return false;
  }
}
