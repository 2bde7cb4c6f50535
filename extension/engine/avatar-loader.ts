/**
 * The engine iframe's way to the chosen avatar's bytes: the extension's IndexedDB directly
 * where this frame shares the extension's storage, else (credentialless iframes in COEP
 * pages get an empty, ephemeral storage) base64 slices from the service worker.
 */
import { MAX_AVATAR_CHUNK, base64ToBytes, type BackgroundRequest, type BackgroundResponse } from '../protocol/background.ts';
import type { AvatarPayload } from '../protocol/bridge-engine.ts';
import { MAX_AVATAR_BYTES, getAvatarFile, getAvatarMeta, openAvatarDb } from '../shared/avatar-store.ts';

interface Stored {
  bytes: ArrayBuffer;
  /** The library's name for it. */
  name: string | null;
}

async function fromIndexedDb(id: string): Promise<Stored | null> {
  const db = await openAvatarDb();
  try {
    const file = await getAvatarFile(db, id);
    return file ? { bytes: await file.arrayBuffer(), name: (await getAvatarMeta(db, id))?.name ?? null } : null;
  } finally {
    db.close();
  }
}

async function fromServiceWorker(id: string): Promise<Stored | null> {
  let total = -1;
  let out: Uint8Array | null = null;
  let name: string | null = null;
  for (let offset = 0; total < 0 || offset < total; ) {
    const r = await chrome.runtime.sendMessage<BackgroundResponse>({ kind: 'read-avatar', id, offset, length: MAX_AVATAR_CHUNK } satisfies BackgroundRequest);
    if (r?.kind === 'not-found') return null;
    if (r?.kind !== 'avatar-chunk') throw new Error(r?.kind === 'error' ? r.message : 'the service worker did not answer');
    if (total < 0) {
      if (!Number.isInteger(r.total) || r.total <= 0 || r.total > MAX_AVATAR_BYTES) throw new Error(`avatar size: expected 1..${MAX_AVATAR_BYTES} bytes, got ${r.total}`);
      total = r.total;
      out = new Uint8Array(total);
      name = typeof r.name === 'string' && r.name.length > 0 ? r.name : null;
    }
    const bytes = base64ToBytes(r.base64);
    if (r.total !== total || r.offset !== offset || bytes.length === 0 || offset + bytes.length > total) throw new Error('avatar slices: inconsistent answer from the service worker');
    out!.set(bytes, offset);
    offset += bytes.length;
  }
  return out ? { bytes: out.buffer as ArrayBuffer, name } : null;
}

export async function loadAvatar(id: string | null): Promise<AvatarPayload> {
  if (id === null) return { id, bytes: null, problem: null };
  let stored: Stored | null = null;
  try {
    stored = await fromIndexedDb(id);
  } catch {
    stored = null; // storage not reachable from this frame: ask the service worker
  }
  try {
    stored ??= await fromServiceWorker(id);
  } catch (e) {
    return { id, bytes: null, problem: `The chosen avatar could not be loaded (${e instanceof Error ? e.message : String(e)}); showing the built-in avatar.` };
  }
  if (!stored) return { id, bytes: null, problem: 'The chosen avatar is no longer stored; showing the built-in avatar.' };
  return { id, bytes: stored.bytes, problem: null, name: stored.name };
}
