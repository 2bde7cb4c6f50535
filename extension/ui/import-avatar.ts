/**
 * Avatar import: validate the whole .r2t with the engine's reader before anything is
 * written, then store it in one transaction. A bad file leaves the store untouched.
 */
import { readAvatar } from '../../worker/avatar/reader.ts';
import { R2TalkerError } from '../../worker/errors.ts';
import { MAX_AVATAR_BYTES, putAvatar, type AvatarMeta } from '../shared/avatar-store.ts';

/** Validates a file and returns the avatar's display name; throws with a user-readable message. */
export type AvatarValidator = (file: Blob, onProgress: (fraction: number) => void) => Promise<string>;

export const validateWithReader: AvatarValidator = async (file, onProgress) => {
  const avatar = await readAvatar(file, { onProgress: (loaded, total) => onProgress(total > 0 ? loaded / total : 1) });
  return avatar.name;
};

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

export async function importAvatar(db: IDBDatabase, file: File, onProgress: (fraction: number) => void, validate: AvatarValidator = validateWithReader): Promise<AvatarMeta> {
  if (file.size === 0) throw new ImportError(`${file.name}: the file is empty`);
  if (file.size > MAX_AVATAR_BYTES) throw new ImportError(`${file.name}: ${file.size} bytes is larger than the ${MAX_AVATAR_BYTES}-byte limit`);
  let name: string;
  try {
    name = await validate(file, (f) => onProgress(Math.max(0, Math.min(1, f)) * 0.95));
  } catch (e) {
    const detail = e instanceof R2TalkerError || e instanceof Error ? e.message : String(e);
    throw new ImportError(`${file.name} is not a valid R2 Talker avatar (${detail})`);
  }
  const meta = await putAvatar(db, name.trim() || file.name, file);
  onProgress(1);
  return meta;
}
