/**
 * Imported avatars in IndexedDB of the extension origin. Metadata and bytes live in two
 * stores written in one transaction, so an import either lands completely or not at all
 * and listing never loads the (large) files.
 */

const DB_NAME = 'r2talker';
const DB_VERSION = 1;
const META = 'avatar-meta';
const DATA = 'avatar-data';
export const MAX_AVATAR_BYTES = 2 * 1024 * 1024 * 1024;

export interface AvatarMeta {
  id: string;
  name: string;
  bytes: number;
  addedAt: number;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

export function openAvatarDb(): Promise<IDBDatabase> {
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains(META)) db.createObjectStore(META, { keyPath: 'id' });
    if (!db.objectStoreNames.contains(DATA)) db.createObjectStore(DATA);
  };
  return request(req);
}

function isMeta(v: unknown): v is AvatarMeta {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return typeof m.id === 'string' && typeof m.name === 'string' && typeof m.bytes === 'number' && typeof m.addedAt === 'number';
}

export async function listAvatars(db: IDBDatabase): Promise<AvatarMeta[]> {
  const all = await request(db.transaction(META, 'readonly').objectStore(META).getAll());
  return all.filter(isMeta).sort((a, b) => a.addedAt - b.addedAt);
}

/** Stores a validated avatar file atomically and returns its metadata. */
export async function putAvatar(db: IDBDatabase, name: string, file: Blob): Promise<AvatarMeta> {
  if (file.size > MAX_AVATAR_BYTES) throw new RangeError(`avatar: expected at most ${MAX_AVATAR_BYTES} bytes, got ${file.size}`);
  const meta: AvatarMeta = { id: crypto.randomUUID(), name: name.slice(0, 200), bytes: file.size, addedAt: Date.now() };
  const tx = db.transaction([META, DATA], 'readwrite');
  tx.objectStore(META).add(meta);
  tx.objectStore(DATA).add(file, meta.id);
  await done(tx);
  return meta;
}

export async function getAvatarFile(db: IDBDatabase, id: string): Promise<Blob | null> {
  const v = await request(db.transaction(DATA, 'readonly').objectStore(DATA).get(id));
  return v instanceof Blob ? v : null;
}

/** The library's record of one avatar (its name may differ from the name inside the file). */
export async function getAvatarMeta(db: IDBDatabase, id: string): Promise<AvatarMeta | null> {
  const v = (await request(db.transaction(META, 'readonly').objectStore(META).get(id))) as AvatarMeta | undefined;
  return v ?? null;
}

export async function deleteAvatar(db: IDBDatabase, id: string): Promise<void> {
  const tx = db.transaction([META, DATA], 'readwrite');
  tx.objectStore(META).delete(id);
  tx.objectStore(DATA).delete(id);
  await done(tx);
}

/** Longest name the library keeps; longer ones are refused, not cut, so the user chooses. */
export const MAX_NAME_LENGTH = 80;

/** A name as the user typed it -> the name stored, or a RangeError saying what is wrong. */
export function checkAvatarName(raw: string): string {
  const name = raw.replace(/\s+/g, ' ').trim();
  if (name.length === 0) throw new RangeError('The name is empty: type at least one letter.');
  if (name.length > MAX_NAME_LENGTH) throw new RangeError(`The name is ${name.length} characters long: at most ${MAX_NAME_LENGTH} fit.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new RangeError('The name holds control characters: use letters, digits and punctuation.');
  return name;
}

/**
 * The file name an exported avatar gets: its name with what file systems refuse
 * (/ \ : * ? " < > | and control characters) replaced, never empty, always `.r2t`.
 */
export function exportFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = name.replace(/[/\\:*?"<>|\u0000-\u001f\u007f]+/g, '-').replace(/^[\s.-]+|[\s.-]+$/g, '').slice(0, MAX_NAME_LENGTH);
  return `${safe || 'avatar'}.r2t`;
}

/** Renames a stored avatar; throws a RangeError for a bad name, an Error when it is gone. */
export async function renameAvatar(db: IDBDatabase, id: string, rawName: string): Promise<AvatarMeta> {
  const name = checkAvatarName(rawName);
  const tx = db.transaction(META, 'readwrite');
  const store = tx.objectStore(META);
  const current: unknown = await request(store.get(id));
  if (!isMeta(current)) {
    tx.abort();
    throw new Error('This avatar is no longer stored (deleted in another window?).');
  }
  const next: AvatarMeta = { ...current, name };
  store.put(next);
  await done(tx);
  return next;
}
