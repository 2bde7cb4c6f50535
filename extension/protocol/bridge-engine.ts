/**
 * ISOLATED bridge <-> engine iframe (chrome-extension://.../engine.html). After the iframe's
 * `load` event the bridge posts one `connect` message with a control MessagePort in
 * `ports[0]`; everything else flows over that port, so the page's window never sees it.
 */
import type { AvatarPayload, EngineOptions, EngineStatus } from '../../worker/engine/protocol/engine-worker.ts';
import type { SessionRequest } from './shim-bridge.ts';

// The engine's own types, re-exported for the extension's contexts that speak this protocol.
export type { AvatarPayload, EngineOptions };

export type BridgeToEngine =
  /**
   * `preview`: the popup's live preview, not a page's camera; the engine then publishes no
   * status (the popup's "Camera status" describes pages' cameras only).
   */
  | { kind: 'connect'; preview?: boolean }
  | { kind: 'options'; options: EngineOptions }
  /** `ports[0]` is the session port whose other end the shim holds. */
  | { kind: 'open-session'; sessionId: string; request: SessionRequest }
  | { kind: 'close-session'; sessionId: string }
  /** Asks for a `status` answer (the popup's preview shows it). */
  | { kind: 'status-request' };

export type EngineToBridge =
  | { kind: 'ready' }
  | { kind: 'session-error'; sessionId: string; message: string }
  | { kind: 'status'; status: EngineStatus };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

export function isBridgeToEngine(v: unknown): v is BridgeToEngine {
  if (!isRecord(v)) return false;
  switch (v.kind) {
    case 'connect':
      return v.preview === undefined || typeof v.preview === 'boolean';
    case 'status-request':
      return true;
    case 'options':
      return isRecord(v.options);
    case 'open-session':
      return typeof v.sessionId === 'string' && isRecord(v.request);
    case 'close-session':
      return typeof v.sessionId === 'string';
    default:
      return false;
  }
}

export function isEngineToBridge(v: unknown): v is EngineToBridge {
  if (!isRecord(v)) return false;
  if (v.kind === 'ready') return true;
  if (v.kind === 'status') return isRecord(v.status) && typeof v.status.sessions === 'number' && typeof v.status.renderFps === 'number';
  return v.kind === 'session-error' && typeof v.sessionId === 'string' && typeof v.message === 'string';
}
