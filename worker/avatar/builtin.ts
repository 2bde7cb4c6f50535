/**
 * The built-in avatar: a synthetic person (worker/synth, nobody's face) trained by our own
 * trainer, shipped as assets/avatars/builtin.r2t and regenerated from scratch by
 * scripts/make-builtin-avatar.sh. The extension bundles it beside its workers under
 * BUILTIN_AVATAR_NAME; Node callers read it through builtin.node.ts.
 */
import { FormatError } from '../errors.ts';
import { readAvatar } from './reader.ts';
import type { Avatar } from './types.ts';

/** File name of the built-in avatar in the built extension (beside render-worker.js). */
export const BUILTIN_AVATAR_NAME = 'builtin.r2t';
/** The built-in avatar is kept small (issue 11: <= 8 MB); anything larger is not ours. */
export const MAX_BUILTIN_AVATAR_BYTES = 8 * 1024 * 1024;

/** Reads the built-in avatar's bytes, refusing a size that cannot be the file we ship. */
export async function readBuiltinAvatar(bytes: Uint8Array, where: string): Promise<Avatar> {
  if (bytes.length === 0 || bytes.length > MAX_BUILTIN_AVATAR_BYTES) {
    throw FormatError.avatar(where, `the built-in avatar must be 1..${MAX_BUILTIN_AVATAR_BYTES} bytes, got ${bytes.length}`);
  }
  return readAvatar(bytes);
}

/** Fetches the built-in avatar that the extension bundles next to `base` (a worker's own URL). */
export async function fetchBuiltinAvatar(base: string | URL): Promise<Avatar> {
  const url = new URL(BUILTIN_AVATAR_NAME, base);
  const res = await fetch(url);
  if (!res.ok) throw FormatError.avatar(BUILTIN_AVATAR_NAME, `could not be fetched from ${url.href} (HTTP ${res.status})`);
  return readBuiltinAvatar(new Uint8Array(await res.arrayBuffer()), BUILTIN_AVATAR_NAME);
}
