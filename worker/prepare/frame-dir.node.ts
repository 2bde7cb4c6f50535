/** Node: a folder of images (PNG/JPEG, one per frame, ordered by the number in the name). */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FormatError } from '../errors.ts';
import { decodeImage } from '../io/image.node.ts';
import type { FrameSource } from './pipeline.ts';

/** More than an hour at 60 fps is refused rather than listed. */
const MAX_FRAMES = 216_000;

export async function frameDirectory(dir: string, fps: number): Promise<FrameSource> {
  const abs = resolve(dir);
  let names: string[];
  try {
    names = await readdir(abs);
  } catch (e) {
    throw FormatError.input(abs, `cannot list the frames folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  const frames = names.filter((n) => /\.(png|jpe?g)$/i.test(n));
  if (frames.length === 0) throw FormatError.input(abs, 'no .png or .jpg frames in the folder');
  if (frames.length > MAX_FRAMES) throw FormatError.input(abs, `${frames.length} frames, over the ${MAX_FRAMES} limit`);
  // Natural order: frame_2 before frame_10, whatever the zero padding.
  const key = (n: string): number => Number(/(\d+)(?!.*\d)/.exec(n)?.[1] ?? NaN);
  if (frames.some((n) => Number.isNaN(key(n)))) throw FormatError.input(abs, 'every frame name needs a number (e.g. 0001.png) to order them');
  frames.sort((a, b) => key(a) - key(b) || a.localeCompare(b));
  return {
    count: frames.length,
    fps,
    async read(i) {
      const file = join(abs, frames[i]);
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (e) {
        throw FormatError.input(file, `unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
      }
      return decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
    },
  };
}
