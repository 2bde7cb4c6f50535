/**
 * Writes a YUV4MPEG2 (.y4m) video, the format Chromium's fake camera plays with
 * --use-file-for-fake-video-capture (4:2:0 only; it loops the file).
 */
import { writeFileSync } from 'node:fs';

export interface RgbFrame {
  width: number;
  height: number;
  /** RGB (3 channels) or RGBA (4), row-major */
  channels: 3 | 4;
  data: Uint8Array;
}

/** BT.601 full-range RGB -> I420 (the JPEG convention, tagged C420jpeg). */
function toI420(f: RgbFrame): Uint8Array {
  const { width: w, height: h, channels: c, data } = f;
  const out = new Uint8Array(w * h + 2 * (w / 2) * (h / 2));
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  for (let i = 0; i < w * h; i++) out[i] = clamp(0.299 * data[i * c] + 0.587 * data[i * c + 1] + 0.114 * data[i * c + 2]);
  const uOff = w * h;
  const vOff = uOff + (w / 2) * (h / 2);
  for (let y = 0; y < h / 2; y++) {
    for (let x = 0; x < w / 2; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const p = ((2 * y + dy) * w + 2 * x + dx) * c;
        r += data[p];
        g += data[p + 1];
        b += data[p + 2];
      }
      r /= 4;
      g /= 4;
      b /= 4;
      out[uOff + y * (w / 2) + x] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
      out[vOff + y * (w / 2) + x] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }
  }
  return out;
}

export function writeY4m(file: string, frames: RgbFrame[], fps: number): void {
  if (frames.length === 0) throw new Error('y4m: no frames');
  const { width, height } = frames[0];
  if (width % 2 || height % 2) throw new Error(`y4m: 4:2:0 needs even sides, got ${width}x${height}`);
  const parts: Uint8Array[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (const f of frames) {
    if (f.width !== width || f.height !== height) throw new Error(`y4m: frame of ${f.width}x${f.height} in a ${width}x${height} video`);
    parts.push(Buffer.from('FRAME\n'), toI420(f));
  }
  writeFileSync(file, Buffer.concat(parts));
}
