/** Numbered PNG frames for the evaluation renders of `render --poses` and `eval --out`. */
import path from 'node:path';
import { encodePng } from '../../worker/io/image.node.ts';
import { writeFileAtomic } from '../files.ts';

/** Writes an RGBA8 frame as out/frame_%04d.png (RGB), atomically. */
export async function writeFramePng(dir: string, index: number, rgba: Uint8ClampedArray, width: number, height: number): Promise<string> {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = rgba[i * 4];
    rgb[i * 3 + 1] = rgba[i * 4 + 1];
    rgb[i * 3 + 2] = rgba[i * 4 + 2];
  }
  const file = path.join(dir, `frame_${String(index).padStart(4, '0')}.png`);
  await writeFileAtomic(file, encodePng({ width, height, rgb }));
  return file;
}
