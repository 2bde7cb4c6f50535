/** Extension pages (popup, options) -> service worker, over chrome.runtime.sendMessage (JSON). */

export type BackgroundRequest = { kind: 'delete-avatar'; id: string };

export type BackgroundResponse = { kind: 'ok' } | { kind: 'error'; message: string };

export function isBackgroundRequest(v: unknown): v is BackgroundRequest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return m.kind === 'delete-avatar' && typeof m.id === 'string' && m.id.length > 0 && m.id.length <= 64;
}
