/**
 * resizeArea's non-integer shrink (OpenCV's area weights) computes each source row's horizontal
 * pass once, with typed tap tables: it must give exactly what the plain formulation gives (every
 * tap of every destination row recomputed, float32 sums), on random sizes and channel counts.
 */
import { describe, expect, it } from 'vitest';
import { resizeArea } from '../../worker/io/resize.ts';

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** OpenCV's computeResizeAreaTab. */
function areaTab(ssize: number, dsize: number, scale: number): { d: number; s: number; w: number }[] {
  const tab: { d: number; s: number; w: number }[] = [];
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

function plainArea(src: Uint8Array, sw: number, sh: number, dw: number, dh: number, c: number): Uint8Array {
  const xtab = areaTab(sw, dw, sw / dw);
  const ytab = areaTab(sh, dh, sh / dh);
  const out = new Uint8Array(dw * dh * c);
  const sum = new Float64Array(dw * c);
  let prev = ytab[0].d;
  const flush = (dy: number) => {
    for (let i = 0; i < dw * c; i++) out[dy * dw * c + i] = Math.max(0, Math.min(255, roundHalfEven(sum[i])));
  };
  for (const { d: dy, s: sy, w: beta } of ytab) {
    const buf = new Float64Array(dw * c);
    for (const { d: dx, s: sx, w: alpha } of xtab) {
      for (let ch = 0; ch < c; ch++) buf[dx * c + ch] = Math.fround(buf[dx * c + ch] + Math.fround(src[(sy * sw + sx) * c + ch] * alpha));
    }
    if (dy !== prev) {
      flush(prev);
      for (let i = 0; i < dw * c; i++) sum[i] = Math.fround(beta * buf[i]);
      prev = dy;
    } else {
      for (let i = 0; i < dw * c; i++) sum[i] = Math.fround(sum[i] + Math.fround(beta * buf[i]));
    }
  }
  flush(prev);
  return out;
}

describe('resizeArea, non-integer shrinks', () => {
  it('equals the plain formulation exactly', () => {
    let s = 11;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    let checked = 0;
    for (let t = 0; t < 40; t++) {
      const sw = 3 + Math.floor(rnd() * 150);
      const sh = 3 + Math.floor(rnd() * 150);
      const c = 1 + Math.floor(rnd() * 4);
      const dw = 1 + Math.floor(rnd() * (sw - 1));
      const dh = 1 + Math.floor(rnd() * (sh - 1));
      if (Number.isInteger(sw / dw) && Number.isInteger(sh / dh)) continue;
      const src = Uint8Array.from({ length: sw * sh * c }, () => Math.floor(rnd() * 256));
      expect(Array.from(resizeArea(src, sw, sh, dw, dh, c)), `${sw}x${sh}x${c} -> ${dw}x${dh}`).toEqual(Array.from(plainArea(src, sw, sh, dw, dh, c)));
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });
});
