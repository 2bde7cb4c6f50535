/**
 * The head's grid encoding (grid.ts encodeGrid) as WebAssembly for the CPU path (issue 14): a
 * module emitted per grid, with the grid's constants (per-level scale, table rows, index
 * strides, hash or tiled) folded into straight-line code, reading the table from the SIMD
 * kernel's memory (simd-mlp.ts). Bit-identical to encodeGrid: every operation is the one the TS
 * code performs, in the same precision (float32 where it rounds with Math.fround or stores to a
 * Float32Array, float64 where it computes in a JS number, u32 wrap-around for the index).
 */
import { ConfigError } from '../errors.ts';
import type { PreparedGrid } from './grid.ts';
import { I32, section, sleb, str, uleb, vec } from './simd-mlp.ts';

const F32 = 0x7d;
const PRIMES = [1, 2654435761, 805459861, 3674653429, 2097192037, 1434869437, 2165219737];

const f32c = (v: number): number[] => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)];
const f64c = (v: number): number[] => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];
const get = (l: number): number[] => [0x20, ...uleb(l)];
const set = (l: number): number[] => [0x21, ...uleb(l)];
const i32c = (v: number): number[] => [0x41, ...sleb(v | 0)];
const f32Load = (offset: number): number[] => [0x2a, 2, ...uleb(offset)];
const f32Store = (offset: number): number[] => [0x38, 2, ...uleb(offset)];
const OP = {
  f32Floor: 0x8e,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Ge: 0x60,
  f32Le: 0x5f,
  i32TruncF32U: 0xa9,
  f64Add: 0xa0,
  f64Mul: 0xa2,
  f64PromoteF32: 0xbb,
  f32DemoteF64: 0xb6,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Xor: 0x73,
  i32RemU: 0x70,
  i32Eqz: 0x45,
  if: [0x04, 0x40],
  end: 0x0b,
  return: 0x0f,
};

/**
 * encode(u, out): the bytes of a module whose function writes the grid's levels*C features of
 * the inputDim float32 coordinates at byte u to byte out; the table's float32 rows at byte
 * `tablePtr` of the imported memory.
 */
export function gridModuleBytes(grid: PreparedGrid, tablePtr: number): Uint8Array<ArrayBuffer> {
  const cfg = grid.config;
  const D = cfg.inputDim;
  const C = cfg.featuresPerLevel;
  const L = cfg.levels;
  if (D < 1 || D > 7) throw new ConfigError(`wasm grid: inputDim ${D} unsupported`);
  // Params 0 u, 1 out; locals: per dim u, pos, frac, 1 - frac (f32) and the corner cell (i32),
  // the corner weight (f32), the row's byte address (i32), one sum per channel (f32).
  const i32Locals: number[] = [];
  const f32Locals: number[] = [];
  const newI32 = (): number => {
    i32Locals.push(0);
    return -i32Locals.length; // patched below
  };
  const newF32 = (): number => {
    f32Locals.push(0);
    return -1000 - f32Locals.length;
  };
  const uL = Array.from({ length: D }, newF32);
  const posL = Array.from({ length: D }, newF32);
  const fracL = Array.from({ length: D }, newF32);
  const omfL = Array.from({ length: D }, newF32);
  const cL = Array.from({ length: D }, newI32);
  const wL = newF32();
  const idxL = newI32();
  const accL = Array.from({ length: C }, newF32);
  // Locals are declared i32s first, then f32s.
  const resolve = (l: number): number => (l <= -1000 ? 2 + i32Locals.length + (-l - 1001) : l < 0 ? 2 + (-l - 1) : l);
  const g = (l: number): number[] => get(resolve(l));
  const s = (l: number): number[] => set(resolve(l));

  const body: number[] = [];
  // u_d = f32.load(u + 4d); outside [0,1] (or NaN) -> zeros.
  for (let d = 0; d < D; d++) body.push(...get(0), ...f32Load(4 * d), ...s(uL[d]));
  const inside: number[] = [];
  for (let d = 0; d < D; d++) {
    inside.push(...g(uL[d]), ...f32c(0), OP.f32Ge, ...g(uL[d]), ...f32c(1), OP.f32Le, OP.i32And);
    if (d > 0) inside.push(OP.i32And);
  }
  body.push(...inside, OP.i32Eqz, ...OP.if);
  for (let k = 0; k < L * C; k++) body.push(...get(1), ...f32c(0), ...f32Store(4 * k));
  body.push(OP.return, OP.end);

  for (let l = 0; l < L; l++) {
    const scale = grid.scale[l];
    const size = grid.tableSize[l] >>> 0;
    const side = (grid.resolution[l] + 1) >>> 0;
    // The index's strides (static: the loop stops adding dimensions once stride > size).
    const strides: number[] = [];
    let stride = 1;
    let d = 0;
    for (; d < D && stride <= size; d++) {
      strides.push(stride);
      stride = Math.imul(stride, side) >>> 0;
    }
    const hashed = cfg.gridType === 'hash' && stride > size;
    for (let k = 0; k < D; k++) {
      // pos = fround(u*scale + 0.5) in float64, c = floor, frac = pos - c, omf = fround(1 - frac)
      body.push(...g(uL[k]), OP.f64PromoteF32, ...f64c(scale), OP.f64Mul, ...f64c(0.5), OP.f64Add, OP.f32DemoteF64, ...s(posL[k]));
      body.push(...g(posL[k]), OP.f32Floor, OP.i32TruncF32U, ...s(cL[k]));
      body.push(...g(posL[k]), ...g(posL[k]), OP.f32Floor, OP.f32Sub, ...s(fracL[k]));
      body.push(...f32c(1), ...g(fracL[k]), OP.f32Sub, ...s(omfL[k]));
    }
    for (let ch = 0; ch < C; ch++) body.push(...f32c(0), ...s(accL[ch]));
    const base = grid.offsets[l];
    for (let corner = 0; corner < 1 << D; corner++) {
      // w = product over dims, float32 after each factor (w starts at 1: 1*x = x exactly)
      for (let k = 0; k < D; k++) {
        body.push(...g((corner & (1 << k)) === 0 ? omfL[k] : fracL[k]));
        if (k > 0) body.push(OP.f32Mul);
      }
      body.push(...s(wL));
      // vertex_k = c_k + bit; index (u32 wrap) then % size
      const vertex = (k: number): number[] => [...g(cL[k]), ...((corner & (1 << k)) !== 0 ? [...i32c(1), OP.i32Add] : [])];
      if (hashed) {
        for (let k = 0; k < D; k++) {
          body.push(...vertex(k), ...i32c(PRIMES[k]), OP.i32Mul);
          if (k > 0) body.push(OP.i32Xor);
        }
      } else {
        strides.forEach((st, k) => {
          body.push(...vertex(k), ...i32c(st), OP.i32Mul);
          if (k > 0) body.push(OP.i32Add);
        });
      }
      body.push(...i32c(size), OP.i32RemU);
      // byte address of row (base + index) * C
      body.push(...i32c(base), OP.i32Add, ...i32c(C * 4), OP.i32Mul, ...s(idxL));
      for (let ch = 0; ch < C; ch++) {
        // acc = fround(acc + w * t), the product and sum in float64
        body.push(...g(accL[ch]), OP.f64PromoteF32, ...g(wL), OP.f64PromoteF32, ...g(idxL), ...f32Load(tablePtr + ch * 4), OP.f64PromoteF32, OP.f64Mul, OP.f64Add, OP.f32DemoteF64, ...s(accL[ch]));
      }
    }
    for (let ch = 0; ch < C; ch++) body.push(...get(1), ...g(accL[ch]), ...f32Store(4 * (l * C + ch)));
  }
  body.push(OP.end);
  const locals = vec([
    [...uleb(i32Locals.length), I32],
    [...uleb(f32Locals.length), F32],
  ]);
  const fn = [...locals, ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), 0]])),
    ...section(2, vec([[...str('m'), ...str('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...str('encode'), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}
