/**
 * WebAssembly SIMD for the CPU path's matrix-vector products (issue 14, "No GPU at all"): the
 * head field's five bias-free layers (mlp.ts linear()) run in a tiny module emitted below as
 * bytes (no toolchain, no package), with the TS loop as the reference. The head's grid encoding
 * (grid.ts encodeGrid) runs in a second module emitted per grid (wasm-grid.ts) on the same memory.
 * Together they take ~40% off a 64 px CPU frame (bench/builtin.ts).
 *
 * Same pixels as the TS path, bit for bit: linear() accumulates each output in a JS number
 * (float64) in input order and rounds once to float32. The kernel does exactly that, vectorised
 * across outputs instead of along the sum: f64x2 lanes hold two outputs' sums, each lane adds
 * its products (float32 x float32, exact in float64) in the same order, and f32.demote rounds
 * as the Float32Array store does. (An f32x4 kernel would run twice the lanes but round every
 * partial sum to float32 and reorder the sum: a different picture from the reference.)
 *
 * Weights are stored once per layer as float64, transposed into blocks of 8 outputs (4 f64x2
 * accumulators, one input value splatted per step). The vectors the layers read and write must
 * lie in the kernel's memory: createHeadScratch() allocates them there when enableSimd() has
 * been called on the weights, and linear() takes the kernel only when both its vectors are views
 * of that memory; everything else (other callers, a full arena) keeps the TS loop.
 * Where WebAssembly or its SIMD is unavailable (validate() refuses the module), enableSimd()
 * returns null and nothing changes.
 */
import type { PreparedGrid } from './grid.ts';
import { headScratchLengths } from './head-field.ts';
import { gridModuleBytes } from './wasm-grid.ts';
import type { ModelWeights } from './weights.ts';

/** Outputs per block (4 f64x2 accumulators). */
const BLOCK = 8;
const PAGE = 65536;

// ---- module bytes ------------------------------------------------------------------------------
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
export const str = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

export const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  i32GeU: [0x4f],
  i32Eqz: [0x45],
  f32Load: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f32Store: (offset: number) => [0x38, 2, ...uleb(offset)],
  f64PromoteF32: [0xbb],
  f32DemoteF64: [0xb6],
  v128Load: (offset: number) => [0xfd, ...uleb(0), 3, ...uleb(offset)],
  v128Zero: [0xfd, ...uleb(12), ...new Array(16).fill(0)],
  f64x2Splat: [0xfd, ...uleb(20)],
  f64x2ExtractLane: (lane: number) => [0xfd, ...uleb(33), lane],
  f64x2Add: [0xfd, ...uleb(240)],
  f64x2Mul: [0xfd, ...uleb(242)],
};

/**
 * matvec(w, outPad, inDim, x, y): y[0..outPad) = W x, W as float64 blocks of BLOCK outputs
 * (block b, input i at w + (b*inDim + i)*BLOCK*8), x float32 at byte x, y float32 at byte y.
 */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  // params 0..4: w, outPad, inDim, x, y; locals 5 ob, 6 i, 7 xp, 8 yp, 9..12 acc, 13 xv
  const [W, OUT, IN, X, Y, OB, I, XP, YP] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const ACC = [9, 10, 11, 12];
  const XV = 13;
  const body: number[] = [
    ...op.i32(0), ...op.set(OB),
    ...op.block, ...op.loop,
    ...op.get(OB), ...op.get(OUT), ...op.i32GeU, ...op.brIf(1),
    ...ACC.flatMap((a) => [...op.v128Zero, ...op.set(a)]),
    ...op.get(X), ...op.set(XP),
    ...op.get(IN), ...op.set(I),
    ...op.block, ...op.loop,
    ...op.get(I), ...op.i32Eqz, ...op.brIf(1),
    ...op.get(XP), ...op.f32Load(0), ...op.f64PromoteF32, ...op.f64x2Splat, ...op.set(XV),
    ...ACC.flatMap((a, k) => [...op.get(a), ...op.get(W), ...op.v128Load(16 * k), ...op.get(XV), ...op.f64x2Mul, ...op.f64x2Add, ...op.set(a)]),
    ...op.get(W), ...op.i32(BLOCK * 8), ...op.i32Add, ...op.set(W),
    ...op.get(XP), ...op.i32(4), ...op.i32Add, ...op.set(XP),
    ...op.get(I), ...op.i32(1), ...op.i32Sub, ...op.set(I),
    ...op.br(0),
    ...op.end, ...op.end,
    // y[ob .. ob+8) = float32(acc lanes)
    ...op.get(Y), ...op.get(OB), ...op.i32(2), ...op.i32Shl, ...op.i32Add, ...op.set(YP),
    ...ACC.flatMap((a, k) => [0, 1].flatMap((lane) => [...op.get(YP), ...op.get(a), ...op.f64x2ExtractLane(lane), ...op.f32DemoteF64, ...op.f32Store(4 * (2 * k + lane))])),
    ...op.get(OB), ...op.i32(BLOCK), ...op.i32Add, ...op.set(OB),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.end,
  ];
  const locals = vec([
    [...uleb(4), I32],
    [...uleb(5), V128],
  ]);
  const fn = [...locals, ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])),
    ...section(2, vec([[...str('m'), ...str('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...str('matvec'), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(fn.length), ...fn]])),
  ]);
}

/** Floats a vector of `length` takes in the arena: padded to a block (16-byte aligned as a result). */
function vectorFloats(length: number): number {
  return Math.ceil(Math.max(length, 1) / BLOCK) * BLOCK;
}

let bytes: Uint8Array<ArrayBuffer> | null = null;
let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function simdModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    bytes ??= moduleBytes();
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether this runtime can run the kernel (WebAssembly with 128-bit SIMD). */
export function simdAvailable(): boolean {
  return simdModule() !== null;
}

interface Layer {
  kernel: SimdMlp;
  /** byte offset of the blocked float64 weights */
  ptr: number;
  outDim: number;
  outPad: number;
  inDim: number;
}

/**
 * A layer's kernel entry, kept on its weight matrix under this key: linear() runs once per layer
 * and sample, and a WeakMap lookup there cost as much as the kernel's own arithmetic.
 */
const LAYER: unique symbol = Symbol('simd layer');
type WithLayer = Float32Array & { [LAYER]?: Layer };
/** Whether any layer was ever registered (linear() skips the lookup until then). */
export let simdLayersExist = false;
const grids = new WeakMap<PreparedGrid, { kernel: SimdMlp; encode: (u: number, out: number) => void }>();
/** Whether any grid encoder was ever built (encodeGrid() skips the lookup until then). */
export let simdGridsExist = false;
const kernels = new WeakMap<ModelWeights, SimdMlp>();

export class SimdMlp {
  readonly memory: WebAssembly.Memory;
  /**
   * memory.buffer, read once: the memory never grows (maximum = initial), so it never detaches,
   * and the getter is a call into the engine that cost more than a layer's arithmetic.
   */
  readonly buffer: ArrayBuffer;
  private readonly matvec: (w: number, outPad: number, inDim: number, x: number, y: number) => void;
  private top = 0;
  /** Layer and grid-encoder calls that went to the kernel (tests check the kernel really ran). */
  calls = 0;
  gridCalls = 0;

  private constructor(module: WebAssembly.Module, private readonly limit: number) {
    const pages = Math.ceil(limit / PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.buffer = this.memory.buffer;
    const inst = new WebAssembly.Instance(module, { m: { memory: this.memory } });
    this.matvec = inst.exports.matvec as SimdMlp['matvec'];
  }

  /** A kernel whose fixed memory holds `weightFloats` blocked weights plus `arenaFloats` of vectors; null without SIMD. */
  static create(weightFloats: number, arenaFloats: number): SimdMlp | null {
    const m = simdModule();
    if (!m) return null;
    return new SimdMlp(m, weightFloats * 8 + arenaFloats * 4 + 64);
  }

  /** Copies W [outDim, inDim] (row-major) in, blocked and widened, and registers it for linear(). */
  addLayer(W: Float32Array, outDim: number, inDim: number): void {
    if (W.length !== outDim * inDim) throw new RangeError(`simd layer: expected ${outDim * inDim} weights, got ${W.length}`);
    const outPad = Math.ceil(outDim / BLOCK) * BLOCK;
    const ptr = this.reserve(outPad * inDim * 8, 16);
    const dst = new Float64Array(this.memory.buffer, ptr, outPad * inDim);
    for (let b = 0; b < outPad / BLOCK; b++) {
      for (let i = 0; i < inDim; i++) {
        for (let k = 0; k < BLOCK; k++) {
          const o = b * BLOCK + k;
          dst[(b * inDim + i) * BLOCK + k] = o < outDim ? W[o * inDim + i] : 0;
        }
      }
    }
    (W as WithLayer)[LAYER] = { kernel: this, ptr, outDim, outPad, inDim };
    simdLayersExist = true;
  }

  /** Copies the grid's table in and compiles its encoder (wasm-grid.ts) for encodeGrid(). */
  addGrid(grid: PreparedGrid): void {
    const ptr = this.reserve(grid.table.length * 4, 16);
    new Float32Array(this.memory.buffer, ptr, grid.table.length).set(grid.table);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(gridModuleBytes(grid, ptr)), { m: { memory: this.memory } });
    grids.set(grid, { kernel: this, encode: inst.exports.encode as (u: number, out: number) => void });
    simdGridsExist = true;
  }

  /** encodeGrid() through the grid's wasm encoder when u and out are this kernel's vectors; false otherwise. */
  static encode(grid: PreparedGrid, u: ArrayLike<number>, out: Float32Array, outOffset: number): boolean {
    const g = grids.get(grid);
    if (g === undefined) return false;
    const buf = g.kernel.buffer;
    if (!(u instanceof Float32Array) || u.buffer !== buf || out.buffer !== buf) return false;
    g.encode(u.byteOffset, out.byteOffset + 4 * outOffset);
    g.kernel.gridCalls++;
    return true;
  }

  /**
   * A float32 vector of `length` in the kernel's memory, with room behind it for a layer's
   * padded outputs; null when the arena is full (the caller then uses an ordinary array).
   */
  vector(length: number): Float32Array | null {
    const ptr = this.reserve(vectorFloats(length) * 4, 16, true);
    return ptr < 0 ? null : new Float32Array(this.memory.buffer, ptr, length);
  }

  /** Reserves `nbytes` of the kernel's memory (throws when full); its byte offset. */
  reserve(nbytes: number, align: number, soft = false): number {
    const ptr = Math.ceil(this.top / align) * align;
    if (ptr + nbytes > this.limit) {
      if (soft) return -1;
      throw new RangeError(`simd kernel: memory full (${this.limit} bytes)`);
    }
    this.top = ptr + nbytes;
    return ptr;
  }

  /** y = W x for a registered W when x and y are this kernel's vectors; false (nothing done) otherwise. */
  static run(W: Float32Array, outDim: number, inDim: number, x: ArrayLike<number>, xOff: number, y: Float32Array, yOff: number): boolean {
    const l = (W as WithLayer)[LAYER];
    if (l === undefined || l.outDim !== outDim || l.inDim !== inDim) return false;
    const k = l.kernel;
    const buf = k.buffer;
    if (!(x instanceof Float32Array) || x.buffer !== buf || y.buffer !== buf) return false;
    // Padded lanes land in the room vector() keeps behind y, so y must start where a vector does.
    if (yOff !== 0) return false;
    k.matvec(l.ptr, l.outPad, inDim, x.byteOffset + 4 * xOff, y.byteOffset);
    k.calls++;
    return true;
  }
}

/** Head layers: [W, out, in] of the weights' sigma and colour nets. */
function headLayers(w: ModelWeights): [Float32Array, number, number][] {
  const h = w.config.head;
  const sigmaIn = w.sigma[0].length / h.hiddenDim;
  const colourIn = w.color[0].length / h.colorHiddenDim;
  return [
    [w.sigma[0], h.hiddenDim, sigmaIn],
    [w.sigma[1], h.hiddenDim, h.hiddenDim],
    [w.sigma[2], 1 + h.geoFeatDim, h.hiddenDim],
    [w.color[0], h.colorHiddenDim, colourIn],
    [w.color[1], 3, h.colorHiddenDim],
  ];
}

/**
 * Puts the weights' head layers in a SIMD kernel, so that head scratch created from now on
 * (createHeadScratch) runs them there; returns the kernel, or null without WebAssembly SIMD.
 * `scratches`: how many renderers' scratch the arena holds (more fall back to TS).
 */
export function enableSimd(weights: ModelWeights, scratches = 8): SimdMlp | null {
  const have = kernels.get(weights);
  if (have) return have;
  const list = headLayers(weights);
  const weightFloats = list.reduce((n, [, o, i]) => n + Math.ceil(o / BLOCK) * BLOCK * i, 0);
  const perScratch = Object.values(headScratchLengths(weights)).reduce((n, len) => n + vectorFloats(len), 0);
  const table = weights.headGrid.table;
  const k = SimdMlp.create(weightFloats + BLOCK + table.length / 2 + 8, perScratch * scratches);
  if (!k) return null;
  for (const [W, o, i] of list) k.addLayer(W, o, i);
  try {
    k.addGrid(weights.headGrid);
  } catch {
    // Chromium refuses to compile a module over 4 KB synchronously on a page's main thread (the
    // builtin's encoder is ~5 KB; the engine renders in a worker, where it compiles): encodeGrid
    // then stays in TS, and the layers still run in the kernel.
  }
  kernels.set(weights, k);
  return k;
}

/** The kernel enableSimd() gave these weights, if any. */
export function simdFor(weights: ModelWeights): SimdMlp | null {
  return kernels.get(weights) ?? null;
}
