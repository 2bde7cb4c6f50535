/*
  Baseline JPEG encoder: a typed-array rewrite of jpeg-js' encoder (lib/encoder.js), itself
  Andreas Ritter's JavaScript port of Adobe's as3corelib JPGEncoder. Same quantisation and
  Huffman tables, colour transform, float AAN DCT and rounding, so the bytes are identical to
  jpeg-js' (tests/unit/io-jpeg-encode.test.ts compares them); what changed is speed: typed arrays,
  tables built once per quality, no per-pixel RGBA copy, a word-wide bit writer, one output
  buffer. 4:4:4 (no chroma subsampling), like jpeg-js.

  Copyright (c) 2008, Adobe Systems Incorporated
  All rights reserved.

  Redistribution and use in source and binary forms, with or without
  modification, are permitted provided that the following conditions are
  met:

  * Redistributions of source code must retain the above copyright notice,
    this list of conditions and the following disclaimer.

  * Redistributions in binary form must reproduce the above copyright
    notice, this list of conditions and the following disclaimer in the
    documentation and/or other materials provided with the distribution.

  * Neither the name of Adobe Systems Incorporated nor the names of its
    contributors may be used to endorse or promote products derived from
    this software without specific prior written permission.

  THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS
  IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO,
  THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR
  PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT OWNER OR
  CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
  EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO,
  PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR
  PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF
  LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
  NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
  SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
*/

const ZIGZAG = Int32Array.of(
  0, 1, 5, 6, 14, 15, 27, 28, 2, 4, 7, 13, 16, 26, 29, 42, 3, 8, 12, 17, 25, 30, 41, 43, 9, 11, 18, 24, 31, 40, 44, 53,
  10, 19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38, 46, 51, 55, 60, 21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63,
);
const DC_LUM_CODES = [0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_LUM_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUM_CODES = [0, 0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUM_VALUES = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
  0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
  0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
  0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
  0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
  0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
  0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];
const DC_CHR_CODES = [0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_CHR_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_CHR_CODES = [0, 0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHR_VALUES = [
  0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
  0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
  0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
  0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
  0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
  0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
  0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];
const Y_QT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const UV_QT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];
const AASF = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

/** Huffman code and length per symbol. */
interface Huffman {
  code: Int32Array;
  len: Int32Array;
}

function huffman(nrcodes: number[], values: number[]): Huffman {
  const code = new Int32Array(256);
  const len = new Int32Array(256);
  let codevalue = 0;
  let pos = 0;
  for (let k = 1; k <= 16; k++) {
    for (let j = 1; j <= nrcodes[k]; j++) {
      code[values[pos]] = codevalue;
      len[values[pos]] = k;
      pos++;
      codevalue++;
    }
    codevalue *= 2;
  }
  return { code, len };
}

const YDC = huffman(DC_LUM_CODES, DC_LUM_VALUES);
const UVDC = huffman(DC_CHR_CODES, DC_CHR_VALUES);
const YAC = huffman(AC_LUM_CODES, AC_LUM_VALUES);
const UVAC = huffman(AC_CHR_CODES, AC_CHR_VALUES);

/** Fixed-point RGB -> YCbCr terms (jpeg-js' RGB_YUV_TABLE). */
const RGB_YUV = new Int32Array(2048);
for (let i = 0; i < 256; i++) {
  RGB_YUV[i] = 19595 * i;
  RGB_YUV[i + 256] = 38470 * i;
  RGB_YUV[i + 512] = 7471 * i + 0x8000;
  RGB_YUV[i + 768] = -11059 * i;
  RGB_YUV[i + 1024] = -21709 * i;
  RGB_YUV[i + 1280] = 32768 * i + 0x807fff;
  RGB_YUV[i + 1536] = -27439 * i;
  RGB_YUV[i + 1792] = -5329 * i;
}

interface QuantTables {
  y: Uint8Array;
  uv: Uint8Array;
  fdY: Float64Array;
  fdUV: Float64Array;
}

const quantCache = new Map<number, QuantTables>();

function quantTables(quality: number): QuantTables {
  const cached = quantCache.get(quality);
  if (cached) return cached;
  const sf = quality < 50 ? Math.floor(5000 / quality) : Math.floor(200 - quality * 2);
  const y = new Uint8Array(64);
  const uv = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    y[ZIGZAG[i]] = Math.min(255, Math.max(1, Math.floor((Y_QT[i] * sf + 50) / 100)));
    uv[ZIGZAG[i]] = Math.min(255, Math.max(1, Math.floor((UV_QT[i] * sf + 50) / 100)));
  }
  const fdY = new Float64Array(64);
  const fdUV = new Float64Array(64);
  for (let row = 0, k = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++, k++) {
      fdY[k] = 1.0 / (y[ZIGZAG[k]] * AASF[row] * AASF[col] * 8.0);
      fdUV[k] = 1.0 / (uv[ZIGZAG[k]] * AASF[row] * AASF[col] * 8.0);
    }
  }
  const t = { y, uv, fdY, fdUV };
  quantCache.set(quality, t);
  return t;
}

/** Output bytes with JPEG's bit-level entropy coding (0xFF stuffed with 0x00). */
class Writer {
  buf: Uint8Array;
  n = 0;
  private acc = 0;
  private bits = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  byte(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }

  word(v: number): void {
    this.byte((v >> 8) & 0xff);
    this.byte(v & 0xff);
  }

  /** `len` (<= 16) bits of `code`, most significant first. */
  put(code: number, len: number): void {
    this.acc = ((this.acc << len) | (code & ((1 << len) - 1))) >>> 0;
    this.bits += len;
    while (this.bits >= 8) {
      this.bits -= 8;
      const b = (this.acc >>> this.bits) & 0xff;
      this.byte(b);
      if (b === 0xff) this.byte(0);
    }
    this.acc &= (1 << this.bits) - 1;
  }

  /** jpeg-js' end: always one to eight 1-bits (a whole 0xFF 0x00 when already aligned). */
  pad(): void {
    const fill = 8 - this.bits;
    this.put((1 << fill) - 1, fill);
  }
}

const dct = new Float64Array(64);
const coef = new Int32Array(64);

/** Forward DCT (AAN, floating point), quantised and rounded half away from zero, into `coef`
 * in zig-zag order. */
function fdctQuant(data: Float64Array, fdtbl: Float64Array): void {
  for (let off = 0; off < 64; off += 8) {
    const d0 = data[off];
    const d1 = data[off + 1];
    const d2 = data[off + 2];
    const d3 = data[off + 3];
    const d4 = data[off + 4];
    const d5 = data[off + 5];
    const d6 = data[off + 6];
    const d7 = data[off + 7];
    const tmp0 = d0 + d7;
    const tmp7 = d0 - d7;
    const tmp1 = d1 + d6;
    const tmp6 = d1 - d6;
    const tmp2 = d2 + d5;
    const tmp5 = d2 - d5;
    const tmp3 = d3 + d4;
    const tmp4 = d3 - d4;
    let tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;
    data[off] = tmp10 + tmp11;
    data[off + 4] = tmp10 - tmp11;
    const z1 = (tmp12 + tmp13) * 0.707106781;
    data[off + 2] = tmp13 + z1;
    data[off + 6] = tmp13 - z1;
    tmp10 = tmp4 + tmp5;
    tmp11 = tmp5 + tmp6;
    tmp12 = tmp6 + tmp7;
    const z5 = (tmp10 - tmp12) * 0.382683433;
    const z2 = 0.5411961 * tmp10 + z5;
    const z4 = 1.306562965 * tmp12 + z5;
    const z3 = tmp11 * 0.707106781;
    const z11 = tmp7 + z3;
    const z13 = tmp7 - z3;
    data[off + 5] = z13 + z2;
    data[off + 3] = z13 - z2;
    data[off + 1] = z11 + z4;
    data[off + 7] = z11 - z4;
  }
  for (let off = 0; off < 8; off++) {
    const d0 = data[off];
    const d1 = data[off + 8];
    const d2 = data[off + 16];
    const d3 = data[off + 24];
    const d4 = data[off + 32];
    const d5 = data[off + 40];
    const d6 = data[off + 48];
    const d7 = data[off + 56];
    const tmp0 = d0 + d7;
    const tmp7 = d0 - d7;
    const tmp1 = d1 + d6;
    const tmp6 = d1 - d6;
    const tmp2 = d2 + d5;
    const tmp5 = d2 - d5;
    const tmp3 = d3 + d4;
    const tmp4 = d3 - d4;
    let tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    let tmp11 = tmp1 + tmp2;
    let tmp12 = tmp1 - tmp2;
    data[off] = tmp10 + tmp11;
    data[off + 32] = tmp10 - tmp11;
    const z1 = (tmp12 + tmp13) * 0.707106781;
    data[off + 16] = tmp13 + z1;
    data[off + 48] = tmp13 - z1;
    tmp10 = tmp4 + tmp5;
    tmp11 = tmp5 + tmp6;
    tmp12 = tmp6 + tmp7;
    const z5 = (tmp10 - tmp12) * 0.382683433;
    const z2 = 0.5411961 * tmp10 + z5;
    const z4 = 1.306562965 * tmp12 + z5;
    const z3 = tmp11 * 0.707106781;
    const z11 = tmp7 + z3;
    const z13 = tmp7 - z3;
    data[off + 40] = z13 + z2;
    data[off + 24] = z13 - z2;
    data[off + 8] = z11 + z4;
    data[off + 56] = z11 - z4;
  }
  for (let i = 0; i < 64; i++) {
    const q = data[i] * fdtbl[i];
    coef[ZIGZAG[i]] = q > 0.0 ? (q + 0.5) | 0 : (q - 0.5) | 0;
  }
}

/** Bits needed for |v| (JPEG's magnitude category), v in [-32767, 32767]. */
function category(v: number): number {
  return 32 - Math.clz32(v < 0 ? -v : v);
}

/** One 8x8 block: DCT, quantisation, Huffman coding. Returns the block's DC for the next diff. */
function block(w: Writer, data: Float64Array, fdtbl: Float64Array, dcPrev: number, dc: Huffman, ac: Huffman): number {
  fdctQuant(data, fdtbl);
  const diff = coef[0] - dcPrev;
  if (diff === 0) {
    w.put(dc.code[0], dc.len[0]);
  } else {
    const cat = category(diff);
    w.put(dc.code[cat], dc.len[cat]);
    w.put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
  }
  let end = 63;
  while (end > 0 && coef[end] === 0) end--;
  if (end === 0) {
    w.put(ac.code[0], ac.len[0]);
    return coef[0];
  }
  let i = 1;
  while (i <= end) {
    const start = i;
    while (coef[i] === 0 && i <= end) i++;
    let zeros = i - start;
    if (zeros >= 16) {
      for (let m = zeros >> 4; m > 0; m--) w.put(ac.code[0xf0], ac.len[0xf0]);
      zeros &= 0xf;
    }
    const v = coef[i];
    const cat = category(v);
    const sym = (zeros << 4) + cat;
    w.put(ac.code[sym], ac.len[sym]);
    w.put(v > 0 ? v : v + (1 << cat) - 1, cat);
    i++;
  }
  if (end !== 63) w.put(ac.code[0], ac.len[0]);
  return coef[0];
}

const yBlock = new Float64Array(64);
const uBlock = new Float64Array(64);
const vBlock = new Float64Array(64);

/**
 * Baseline JPEG of an 8-bit image with `channels` (3 RGB or 4 RGBA, alpha ignored) interleaved
 * bytes per pixel, quality 1..100 as jpeg-js reads it. Edge blocks repeat the last row/column.
 */
export function encodeJpeg(data: Uint8Array, width: number, height: number, channels: 3 | 4, quality: number): Uint8Array {
  const q = quantTables(Math.min(100, Math.max(1, Math.round(quality))));
  const w = new Writer(Math.max(4096, ((width * height * 3) >> 1) + 1024));
  w.word(0xffd8);
  // APP0 (JFIF 1.1, no density units, no thumbnail).
  w.word(0xffe0);
  w.word(16);
  for (const b of [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0]) w.byte(b);
  w.word(1);
  w.word(1);
  w.byte(0);
  w.byte(0);
  // DQT.
  w.word(0xffdb);
  w.word(132);
  w.byte(0);
  for (let i = 0; i < 64; i++) w.byte(q.y[i]);
  w.byte(1);
  for (let i = 0; i < 64; i++) w.byte(q.uv[i]);
  // SOF0: three components, no subsampling.
  w.word(0xffc0);
  w.word(17);
  w.byte(8);
  w.word(height);
  w.word(width);
  w.byte(3);
  for (const b of [1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]) w.byte(b);
  // DHT.
  w.word(0xffc4);
  w.word(0x01a2);
  const table = (id: number, codes: number[], values: number[]) => {
    w.byte(id);
    for (let i = 0; i < 16; i++) w.byte(codes[i + 1]);
    for (const v of values) w.byte(v);
  };
  table(0, DC_LUM_CODES, DC_LUM_VALUES);
  table(0x10, AC_LUM_CODES, AC_LUM_VALUES);
  table(1, DC_CHR_CODES, DC_CHR_VALUES);
  table(0x11, AC_CHR_CODES, AC_CHR_VALUES);
  // SOS.
  w.word(0xffda);
  w.word(12);
  for (const b of [3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3f, 0]) w.byte(b);

  let dcY = 0;
  let dcU = 0;
  let dcV = 0;
  const stride = width * channels;
  for (let y = 0; y < height; y += 8) {
    for (let x = 0; x < width; x += 8) {
      for (let pos = 0; pos < 64; pos++) {
        const yy = Math.min(height - 1, y + (pos >> 3));
        const xx = Math.min(width - 1, x + (pos & 7));
        const p = yy * stride + xx * channels;
        const r = data[p];
        const g = data[p + 1];
        const b = data[p + 2];
        yBlock[pos] = ((RGB_YUV[r] + RGB_YUV[g + 256] + RGB_YUV[b + 512]) >> 16) - 128;
        uBlock[pos] = ((RGB_YUV[r + 768] + RGB_YUV[g + 1024] + RGB_YUV[b + 1280]) >> 16) - 128;
        vBlock[pos] = ((RGB_YUV[r + 1280] + RGB_YUV[g + 1536] + RGB_YUV[b + 1792]) >> 16) - 128;
      }
      dcY = block(w, yBlock, q.fdY, dcY, YDC, YAC);
      dcU = block(w, uBlock, q.fdUV, dcU, UVDC, UVAC);
      dcV = block(w, vBlock, q.fdUV, dcV, UVDC, UVAC);
    }
  }
  w.pad();
  w.word(0xffd9);
  return w.buf.slice(0, w.n);
}
