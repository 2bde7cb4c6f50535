/**
 * The trained bench avatar (assets/bench/official-t13.r2t, scripts/make-bench-avatar.sh): the
 * official networks (widths, levels, features, resolutions: the official multiply-adds per sample)
 * with 2^13-row hash tables, trained for a short CPU schedule on the built-in avatar's procedural
 * person. Fast mode's multiply-add and PSNR figures on an official-size avatar are measured on it
 * (bench/fast.ts, bench/fast-gpu.ts, tests/unit/fast-bench-avatar.test.ts); the seeded random
 * official avatar (webgpu-avatar.ts officialAvatar()) is noise to fast mode and no stand-in for
 * a trained one.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readAvatar } from '../../worker/avatar/reader.ts';
import type { Avatar } from '../../worker/avatar/types.ts';

export const BENCH_AVATAR_PATH = fileURLToPath(new URL('../../assets/bench/official-t13.r2t', import.meta.url));

export async function loadBenchAvatar(): Promise<Avatar> {
  return readAvatar(new Uint8Array(await readFile(BENCH_AVATAR_PATH)));
}
