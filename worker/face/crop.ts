/**
 * Rotated square crops of an RGB frame, resampled bilinearly into the float NHWC input the face
 * models expect. A crop is a similarity transform: `center` and `size` in frame pixels, `angle`
 * the direction (radians, image axes, y down) that becomes the crop's +x axis. The same
 * transform maps model outputs back to the frame (`cropToFrame`).
 */

export interface RgbFrame {
  width: number;
  height: number;
  /** Interleaved RGB, row-major, width*height*3 bytes. */
  rgb: Uint8Array;
}

export interface CropRect {
  cx: number;
  cy: number;
  size: number;
  angle: number;
}

/** Samples `rect` into an `n`x`n` float image with values `lo + (hi-lo)*v/255`. Pixels outside
 * the frame are black (lo), as MediaPipe's own cropping does. */
export function sampleCrop(frame: RgbFrame, rect: CropRect, n: number, lo: number, hi: number): Float32Array {
  const { width: w, height: h, rgb } = frame;
  const out = new Float32Array(n * n * 3);
  const c = Math.cos(rect.angle);
  const s = Math.sin(rect.angle);
  const step = rect.size / n;
  const k = (hi - lo) / 255;
  for (let v = 0; v < n; v++) {
    const ly = (v + 0.5) * step - rect.size / 2;
    for (let u = 0; u < n; u++) {
      const lx = (u + 0.5) * step - rect.size / 2;
      // Pixel centres sit at integer + 0.5; shift to sample indices.
      const x = rect.cx + c * lx - s * ly - 0.5;
      const y = rect.cy + s * lx + c * ly - 0.5;
      const o = (v * n + u) * 3;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let dy = 0; dy < 2; dy++) {
          const yy = y0 + dy;
          if (yy < 0 || yy >= h) continue;
          const wy = dy ? fy : 1 - fy;
          for (let dx = 0; dx < 2; dx++) {
            const xx = x0 + dx;
            if (xx < 0 || xx >= w) continue;
            acc += (dx ? fx : 1 - fx) * wy * rgb[(yy * w + xx) * 3 + ch];
          }
        }
        out[o + ch] = lo + k * acc;
      }
    }
  }
  return out;
}

/** Maps a point given in crop pixels (0..n) back to frame pixels. */
export function cropToFrame(rect: CropRect, n: number, px: number, py: number): [number, number] {
  const lx = (px / n - 0.5) * rect.size;
  const ly = (py / n - 0.5) * rect.size;
  const c = Math.cos(rect.angle);
  const s = Math.sin(rect.angle);
  return [rect.cx + c * lx - s * ly, rect.cy + s * lx + c * ly];
}
