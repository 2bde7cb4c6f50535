/**
 * Extension pages (popup, options, the engine iframe) -> service worker, over
 * chrome.runtime.sendMessage (JSON: bytes travel as base64 chunks).
 */

export type BackgroundRequest =
  | { kind: 'delete-avatar'; id: string }
  /** A slice of a stored avatar's file; the engine iframe of a COEP page cannot open IndexedDB itself. */
  | { kind: 'read-avatar'; id: string; offset: number; length: number };

export type BackgroundResponse =
  | { kind: 'ok' }
  | { kind: 'error'; message: string }
  /** `name`: the library's name for it, which a rename changes (the file keeps its own). */
  | { kind: 'avatar-chunk'; total: number; offset: number; base64: string; name: string }
  | { kind: 'not-found' };

/** Largest slice one read-avatar answer carries (base64 grows it by a third). */
export const MAX_AVATAR_CHUNK = 4 * 1024 * 1024;

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;

export function isBackgroundRequest(v: unknown): v is BackgroundRequest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  if (m.kind === 'delete-avatar') return isId(m.id);
  if (m.kind === 'read-avatar') {
    const n = (x: unknown, lo: number, hi: number) => typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
    return isId(m.id) && n(m.offset, 0, Number.MAX_SAFE_INTEGER) && n(m.length, 1, MAX_AVATAR_CHUNK);
  }
  return false;
}

/** Test-only commands the service worker broadcasts to engine iframes (tests drive the SW). */
export type EngineCommand = { kind: 'r2t-engine-lose-device' };

export function isEngineCommand(v: unknown): v is EngineCommand {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>).kind === 'r2t-engine-lose-device';
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
