/** The built-in avatar read from the repository's assets (Node: CLI, LiveKit avatar worker). */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readBuiltinAvatar } from './builtin.ts';
import type { Avatar } from './types.ts';

export const BUILTIN_AVATAR_PATH = fileURLToPath(new URL('../../assets/avatars/builtin.r2t', import.meta.url));

export async function loadBuiltinAvatar(): Promise<Avatar> {
  return readBuiltinAvatar(new Uint8Array(await readFile(BUILTIN_AVATAR_PATH)), BUILTIN_AVATAR_PATH);
}
