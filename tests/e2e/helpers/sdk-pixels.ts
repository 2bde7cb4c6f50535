/** Pixel comparisons for the SDK tests (RGBA arrays, alpha ignored). */

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length % 4 !== 0) throw new Error(`psnr: sizes differ (${a.length} vs ${b.length})`);
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a[i + c]! - b[i + c]!;
      se += d * d;
      n++;
    }
  }
  const mse = se / n;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Box-average downscale of an RGBA image to side x side (area average, no aliasing). */
export function downscale(rgba: ArrayLike<number>, width: number, height: number, side: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) {
    const y0 = Math.floor((y * height) / side);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / side));
    for (let x = 0; x < side; x++) {
      const x0 = Math.floor((x * width) / side);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / side));
      const sum = [0, 0, 0];
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) for (let c = 0; c < 3; c++) sum[c]! += rgba[(yy * width + xx) * 4 + c]!;
      const k = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < 3; c++) out[(y * side + x) * 4 + c] = sum[c]! / k;
      out[(y * side + x) * 4 + 3] = 255;
    }
  }
  return out;
}

/** Mean luma (BT.601) of an RGBA image inside a box given as fractions of the frame. */
export function boxLuma(rgba: ArrayLike<number>, width: number, height: number, box: { x0: number; y0: number; x1: number; y1: number }): number {
  const xs = Math.max(0, Math.floor(box.x0 * width));
  const xe = Math.min(width, Math.ceil(box.x1 * width));
  const ys = Math.max(0, Math.floor(box.y0 * height));
  const ye = Math.min(height, Math.ceil(box.y1 * height));
  let s = 0;
  let n = 0;
  for (let y = ys; y < ye; y++) {
    for (let x = xs; x < xe; x++) {
      const i = (y * width + x) * 4;
      s += 0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!;
      n++;
    }
  }
  return n === 0 ? 0 : s / n;
}
