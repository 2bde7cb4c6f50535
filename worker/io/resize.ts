/**
 * `cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)` for interleaved uint8 images, as
 * the reference uses for the background (nerf/provider.py). Platform-free so the importer can
 * use it in a browser worker.
 *
 * OpenCV picks one of three paths and we follow the same choice:
 * - integer factors on both axes: block mean; 2x2 rounds half up ((sum+2)>>2, OpenCV's
 *   vector path), other factors round sum*(1/area) in float32 half-to-even;
 * - other shrinks on both axes: exact area weights (computeResizeAreaTab), float32 sums;
 * - any enlargement: bilinear with "area" coefficients in 11-bit fixed point.
 * The float paths follow OpenCV's scalar code; its SIMD builds can differ by 1 on ties.
 */
import { FormatError } from '../errors.ts';
import { LIMITS } from '../avatar/config.ts';

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function sat8(x: number): number {
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

function checkSize(field: string, w: number, h: number): void {
  for (const [n, v] of [['width', w], ['height', h]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > LIMITS.maxImageSide) {
      throw FormatError.expected('INPUT_FORMAT', `${field}.${n}`, `an integer in [1, ${LIMITS.maxImageSide}]`, String(v));
    }
  }
}

function blockMean(src: Uint8Array, sw: number, dw: number, dh: number, c: number, kx: number, ky: number): Uint8Array {
  const out = new Uint8Array(dw * dh * c);
  const area = kx * ky;
  const scale = Math.fround(1 / area);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let j = 0; j < ky; j++) {
          const row = ((y * ky + j) * sw + x * kx) * c + ch;
          for (let i = 0; i < kx; i++) sum += src[row + i * c];
        }
        out[(y * dw + x) * c + ch] = area === 4 && kx === 2 ? (sum + 2) >> 2 : sat8(roundHalfEven(Math.fround(sum * scale)));
      }
    }
  }
  return out;
}

interface Tap {
  d: number;
  s: number;
  w: number;
}

/** OpenCV's computeResizeAreaTab: which source cells feed each destination cell, and how much. */
function areaTab(ssize: number, dsize: number, scale: number): Tap[] {
  const tab: Tap[] = [];
  for (let d = 0; d < dsize; d++) {
    const f1 = d * scale;
    const f2 = f1 + scale;
    const cell = Math.min(scale, ssize - f1);
    const s2 = Math.min(Math.floor(f2), ssize - 1);
    const s1 = Math.min(Math.ceil(f1), s2);
    if (s1 - f1 > 1e-3) tab.push({ d, s: s1 - 1, w: Math.fround((s1 - f1) / cell) });
    for (let s = s1; s < s2; s++) tab.push({ d, s, w: Math.fround(1 / cell) });
    if (f2 - s2 > 1e-3) tab.push({ d, s: s2, w: Math.fround(Math.min(Math.min(f2 - s2, 1), cell) / cell) });
  }
  return tab;
}

function areaResize(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, c: number): Uint8Array {
  const xtab = areaTab(sw, dw, sw / dw);
  const ytab = areaTab(sh, dh, sh / dh);
  // Typed copies of the horizontal taps, and each source row's horizontal pass computed once
  // (a row that straddles two destination rows feeds both): same float32 arithmetic as before.
  const nx = xtab.length;
  const xo = new Int32Array(nx);
  const xi = new Int32Array(nx);
  const xw = new Float32Array(nx);
  xtab.forEach((t, k) => {
    xo[k] = t.d * c;
    xi[k] = t.s * c;
    xw[k] = t.w;
  });
  const n = dw * c;
  const out = new Uint8Array(dw * dh * c);
  const buf = new Float32Array(n);
  const sum = new Float32Array(n);
  let bufRow = -1;
  let prev = ytab.length > 0 ? ytab[0].d : 0;
  const flush = (dy: number): void => {
    for (let i = 0; i < n; i++) out[dy * n + i] = sat8(roundHalfEven(sum[i]));
  };
  for (const { d: dy, s: sy, w: beta } of ytab) {
    if (sy !== bufRow) {
      buf.fill(0);
      const row = sy * sw * c;
      if (c === 3) {
        for (let k = 0; k < nx; k++) {
          const o = xo[k];
          const si = row + xi[k];
          const alpha = xw[k];
          buf[o] += Math.fround(src[si] * alpha);
          buf[o + 1] += Math.fround(src[si + 1] * alpha);
          buf[o + 2] += Math.fround(src[si + 2] * alpha);
        }
      } else {
        for (let k = 0; k < nx; k++) {
          const o = xo[k];
          const si = row + xi[k];
          const alpha = xw[k];
          for (let ch = 0; ch < c; ch++) buf[o + ch] += Math.fround(src[si + ch] * alpha);
        }
      }
      bufRow = sy;
    }
    if (dy !== prev) {
      flush(prev);
      for (let i = 0; i < n; i++) sum[i] = beta * buf[i];
      prev = dy;
    } else {
      for (let i = 0; i < n; i++) sum[i] += Math.fround(beta * buf[i]);
    }
  }
  flush(prev);
  return out;
}

const COEF_BITS = 11;
const COEF_ONE = 1 << COEF_BITS;

/** Per destination index: source index and the two fixed-point weights (area-mode linear). */
function linearTaps(ssize: number, dsize: number): { s: Int32Array; a0: Int32Array; a1: Int32Array } {
  const inv = dsize / ssize;
  const scale = 1 / inv;
  const s = new Int32Array(dsize);
  const a0 = new Int32Array(dsize);
  const a1 = new Int32Array(dsize);
  for (let d = 0; d < dsize; d++) {
    let sx = Math.floor(d * scale);
    let fx = Math.fround(d + 1 - (sx + 1) * inv);
    fx = fx <= 0 ? 0 : Math.fround(fx - Math.floor(fx));
    if (sx >= ssize - 1) {
      fx = 0;
      sx = ssize - 1;
    }
    s[d] = sx;
    a0[d] = roundHalfEven(Math.fround(Math.fround(1 - fx) * COEF_ONE));
    a1[d] = roundHalfEven(Math.fround(fx * COEF_ONE));
  }
  return { s, a0, a1 };
}

function linearResize(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, c: number): Uint8Array {
  const xt = linearTaps(sw, dw);
  const yt = linearTaps(sh, dh);
  const out = new Uint8Array(dw * dh * c);
  const horizontal = (sy: number, into: Int32Array): void => {
    const row = sy * sw * c;
    for (let dx = 0; dx < dw; dx++) {
      const sx = xt.s[dx];
      const sx1 = Math.min(sx + 1, sw - 1);
      for (let ch = 0; ch < c; ch++) into[dx * c + ch] = src[row + sx * c + ch] * xt.a0[dx] + src[row + sx1 * c + ch] * xt.a1[dx];
    }
  };
  const r0 = new Int32Array(dw * c);
  const r1 = new Int32Array(dw * c);
  const round = 1 << (2 * COEF_BITS - 1);
  for (let dy = 0; dy < dh; dy++) {
    const sy = yt.s[dy];
    horizontal(sy, r0);
    horizontal(Math.min(sy + 1, sh - 1), r1);
    const b0 = yt.a0[dy];
    const b1 = yt.a1[dy];
    for (let i = 0; i < dw * c; i++) out[dy * dw * c + i] = sat8((r0[i] * b0 + r1[i] * b1 + round) >> (2 * COEF_BITS));
  }
  return out;
}

/** Resizes an interleaved uint8 image with cv2.INTER_AREA semantics. Returns `src` when sizes match. */
export function resizeArea(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, channels = 3): Uint8Array {
  checkSize('source', sw, sh);
  checkSize('target', dw, dh);
  if (!Number.isInteger(channels) || channels < 1 || channels > 4) throw FormatError.expected('INPUT_FORMAT', 'channels', '1 to 4', String(channels));
  if (src.length !== sw * sh * channels) throw FormatError.expected('INPUT_FORMAT', 'image.data', `${sw * sh * channels} bytes (${sw}x${sh}x${channels})`, `${src.length}`);
  if (sw === dw && sh === dh) return src;
  const kx = sw / dw;
  const ky = sh / dh;
  if (kx >= 1 && ky >= 1) {
    if (Number.isInteger(kx) && Number.isInteger(ky)) return blockMean(src, sw, dw, dh, channels, kx, ky);
    return areaResize(src, sw, sh, dw, dh, channels);
  }
  return linearResize(src, sw, sh, dw, dh, channels);
}
