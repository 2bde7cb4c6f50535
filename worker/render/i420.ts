/**
 * RGBA8 -> I420 on the CPU, the reference for the GPU conversion (shaders/compositing/compose.wgsl)
 * and a fallback: BT.601 limited range ("studio swing": Y in 16..235, Cb/Cr in 16..240),
 * chroma from the mean of each 2x2 block, round half up. Planes Y (w*h), U, V (w/2*h/2 each),
 * contiguous: the layout `new VideoFrame(bytes, { format: 'I420', codedWidth, codedHeight })` reads.
 */
import { ConfigError } from '../errors.ts';

export function i420Size(width: number, height: number): number {
  return width * height + 2 * (width / 2) * (height / 2);
}

export function checkI420Size(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width % 2 || height % 2) {
    throw new ConfigError(`output size: I420 needs even width and height >= 2, got ${width}x${height}`);
  }
}

const f = Math.fround;
const toByte = (v: number) => Math.min(255, Math.max(0, Math.floor(v + 0.5)));

export function rgbaToI420(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  checkI420Size(width, height);
  if (rgba.length !== width * height * 4) throw new ConfigError(`rgba: expected ${width * height * 4} bytes, got ${rgba.length}`);
  const out = new Uint8Array(i420Size(width, height));
  for (let i = 0; i < width * height; i++) {
    const r = rgba[i * 4], g = rgba[i * 4 + 1], b = rgba[i * 4 + 2];
    out[i] = toByte(f(16 + f(f(f(f(65.481 * r) + f(128.553 * g)) + f(24.966 * b)) / 255)));
  }
  const cw = width / 2;
  const csize = cw * (height / 2);
  for (let k = 0; k < csize; k++) {
    const x = 2 * (k % cw);
    const y = 2 * Math.floor(k / cw);
    const c = [0, 1, 2].map((ch) => {
      const at = (xx: number, yy: number) => rgba[(yy * width + xx) * 4 + ch];
      return f(f(f(f(at(x, y) + at(x + 1, y)) + at(x, y + 1)) + at(x + 1, y + 1)) * 0.25);
    });
    out[width * height + k] = toByte(f(128 + f(f(f(f(-37.797 * c[0]) - f(74.203 * c[1])) + f(112.0 * c[2])) / 255)));
    out[width * height + csize + k] = toByte(f(128 + f(f(f(f(112.0 * c[0]) - f(93.786 * c[1])) - f(18.214 * c[2])) / 255)));
  }
  return out;
}
