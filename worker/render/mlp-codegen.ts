/**
 * Fused-MLP code generation for the field kernels. Every bias-free linear layer becomes WGSL
 * over vec4 blocks: output block j = sum_k W_jk * x_k with W_jk a mat4x4 of packed weights, the
 * inputs at constant indices so activations live in registers. One invocation evaluates
 * `samples` points (S): each weight block it reads serves all S, so a lane-uniform weight read
 * (on software adapters a per-lane gather with a bounds check) is paid once per S multiply-adds
 * of vec4s. S = 1 suits GPUs (registers are scarce, weights come from cache); a software
 * adapter such as SwiftShader runs the MLP ~5x faster at S = 8..16 (bench/probe-block.ts).
 * Code is written as templates: `#` stands for the sample suffix (`_0`, `_1`, ...), `#i` for
 * the sample index; a template without `#` is shared by all samples.
 * The host packs the weights in the same block order (column-major 4x4 blocks, zero padded).
 */
import type { WeightPrecision } from './weights-pack.ts';
import { float32ToFloat16Bits } from '../avatar/tensor.ts';

/** Largest total of 4x4 blocks we unroll; bigger configs use the loop kernels. */
export const UNROLL_BLOCK_BUDGET = 6144;

/** Most points one invocation evaluates (registers and compile time grow with it). */
export const MAX_SAMPLES_PER_INVOCATION = 16;

const LANES = ['x', 'y', 'z', 'w'];

export interface LayerSource {
  /** Row-major [rows, cols] weights (PyTorch [out, in]). */
  weights: Float32Array;
  rows: number;
  cols: number;
  /** Columns used, in input order (default 0..cols-1); the rest are folded into a bias elsewhere. */
  columns?: number[];
  /** Rows produced, in output order (default 0..rows-1). */
  order?: number[];
}

/**
 * FiLM: max(y * (1 + array[scale + o]) + array[shift + o], 0) with o the output row (< last + 1); `array` is a uniform array<vec4f>.
 * With `delta` (fast mode): also `into#` = max(into#, |y * d[scale + o] + d[shift + o]|), d = array - delta.array (the
 * previous frame's FiLM vectors, same layout): how far this frame's conditioning moved the unit (worker/model/fast-field.ts).
 */
export type FilmActivation = { array: string; shift: number; scale: number; last: number; delta?: { array: string; into: string } };
export type Activation = 'none' | 'relu' | { film: FilmActivation } | { biasRelu: { array: string; offset: number } };

/**
 * Where the packed weights live. 'uniform' banks (each at most `bankBlocks` blocks, one binding
 * each): a layer's loop reads its blocks at a dynamic but lane-uniform index, which SwiftShader
 * serves ~2.4x faster from a uniform buffer than from a storage buffer (no per-lane robustness
 * gather; bench/probe-mlp.ts). 'storage': one array, for configs whose layers exceed a bank.
 */
export type WeightHome = { kind: 'uniform'; bankBlocks: number } | { kind: 'storage' };

/** Bytes of one packed 4x4 block. */
export const blockBytes = (t: WeightPrecision) => (t === 'f16' ? 32 : 64);

/** Collects the packed blocks of several layers and the WGSL that evaluates them. */
export class MlpBuilder {
  private readonly banks: number[][] = [[]];
  private readonly lines: string[] = [];
  private count = 0;
  /** A layer did not fit one uniform bank: rebuild with { kind: 'storage' }. */
  overflow = false;

  constructor(
    private readonly matArray: string,
    private readonly weightType: WeightPrecision,
    private readonly home: WeightHome = { kind: 'storage' },
    /** Points evaluated per invocation (S). */
    readonly samples = 1,
  ) {
    if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES_PER_INVOCATION) throw new Error(`mlp: samples per invocation must be 1..${MAX_SAMPLES_PER_INVOCATION}, got ${samples}`);
  }

  /** A template for each sample (see the file comment). */
  expand(template: string): string[] {
    if (!template.includes('#')) return [template];
    return Array.from({ length: this.samples }, (_, s) => template.replaceAll('#i', String(s)).replaceAll('#', `_${s}`));
  }

  get blockCount(): number {
    return this.count;
  }

  get bankCount(): number {
    return this.banks.length;
  }

  private bankName(i: number): string {
    return this.home.kind === 'storage' ? this.matArray : `${this.matArray}${i}`;
  }

  /** WGSL declarations of the weight arrays; `bindings[i]` is bank i's binding in group 0. */
  declarations(bindings: number[]): string {
    if (bindings.length < this.banks.length) throw new Error(`mlp: ${this.banks.length} weight banks but ${bindings.length} bindings`);
    const space = this.home.kind === 'uniform' ? 'uniform' : 'storage, read';
    return this.banks.map((b, i) => `@group(0) @binding(${bindings[i]}) var<${space}> ${this.bankName(i)}: array<mat4x4<WT>, ${Math.max(1, b.length / 16)}>;`).join('\n');
  }

  /** Appends a line of WGSL to the generated body: once, or once per sample for a template. */
  line(code: string): void {
    for (const c of this.expand(code)) this.lines.push(`  ${c}`);
  }

  /**
   * Emits `var <name>#: array<vec4f, J>` per sample; `inputs` are scalar WGSL templates, one
   * per used column. Returns one scalar template per produced row.
   */
  layer(name: string, src: LayerSource, inputs: string[], act: Activation = 'none'): string[] {
    const cols = src.columns ?? range(src.cols);
    const order = src.order ?? range(src.rows);
    if (inputs.length !== cols.length) throw new Error(`mlp layer ${name}: ${inputs.length} inputs for ${cols.length} columns`);
    const K = Math.ceil(cols.length / 4);
    const J = Math.ceil(order.length / 4);
    const inVecs = blockVectors(name, inputs, (l) => this.line(l));
    if (this.home.kind === 'uniform') {
      if (J * K > this.home.bankBlocks) this.overflow = true;
      if (this.banks[this.banks.length - 1].length / 16 + J * K > this.home.bankBlocks && this.banks[this.banks.length - 1].length > 0) this.banks.push([]);
    }
    const blocks = this.banks[this.banks.length - 1];
    const arr = this.bankName(this.banks.length - 1);
    const base = blocks.length / 16;
    for (let j = 0; j < J; j++) {
      for (let k = 0; k < K; k++) {
        // Column-major: column c of the block holds W[row r][col c] for r = 0..3.
        for (let c = 0; c < 4; c++) {
          for (let r = 0; r < 4; r++) {
            const row = order[4 * j + r];
            const col = cols[4 * k + c];
            blocks.push(row === undefined || col === undefined ? 0 : src.weights[row * src.cols + col]);
          }
        }
      }
    }
    this.count += J * K;
    const load = (i: string) => (this.weightType === 'f16' ? `mat4x4f(${arr}[${i}])` : `${arr}[${i}]`);
    // Output blocks in a loop (inputs at constant indices, one dynamic store per block): fully
    // unrolled layers compile for minutes or crash SwiftShader's JIT, and this keeps code small.
    const acc = (t: string) => this.expand(t).map((c) => `    ${c}`);
    this.line(`var ${name}#: array<vec4f, ${J}>;`);
    this.lines.push(`  for (var j = 0u; j < ${J}u; j++) {`);
    this.lines.push(`    let b = ${base}u + j * ${K}u;`);
    inVecs.forEach((v, k) => {
      this.lines.push(`    let w${k} = ${load(k === 0 ? 'b' : `b + ${k}u`)};`);
      this.lines.push(...acc(k === 0 ? `var acc# = w0 * ${v};` : `acc# += w${k} * ${v};`));
    });
    if (act === 'relu') this.lines.push(...acc('acc# = max(acc#, vec4f(0.0));'));
    else if (typeof act === 'object' && 'biasRelu' in act) {
      const bias = act.biasRelu;
      // A bias array named with '#' is per sample (one array per point).
      if (bias.array.includes('#')) this.lines.push(...acc(`acc# = max(acc# + ${bias.array}[${bias.offset / 4}u + j], vec4f(0.0));`));
      else {
        this.lines.push(`    let bias = ${bias.array}[${bias.offset / 4}u + j];`);
        this.lines.push(...acc('acc# = max(acc# + bias, vec4f(0.0));'));
      }
    } else if (typeof act === 'object') {
      const f = act.film;
      this.lines.push(`    let fscale = vec4f(1.0) + ${filmVec(f.array, f.scale, f.last)};`);
      this.lines.push(`    let fshift = ${filmVec(f.array, f.shift, f.last)};`);
      if (f.delta) {
        this.lines.push(`    let dscale = ${filmVec(f.array, f.scale, f.last)} - ${filmVec(f.delta.array, f.scale, f.last)};`);
        this.lines.push(`    let dshift = fshift - ${filmVec(f.delta.array, f.shift, f.last)};`);
        this.lines.push(...acc(`${f.delta.into}# = max(${f.delta.into}#, abs(acc# * dscale + dshift));`));
      }
      this.lines.push(...acc('acc# = max(acc# * fscale + fshift, vec4f(0.0));'));
    }
    this.lines.push(...acc(`${name}#[j] = acc#;`));
    this.lines.push('  }');
    const out: string[] = [];
    for (let j = 0; j < J; j++) for (let r = 0; r < 4 && 4 * j + r < order.length; r++) out.push(`${name}#[${j}].${LANES[r]}`);
    return out;
  }

  body(): string {
    return this.lines.join('\n');
  }

  /** The body so far, after which the builder starts a new one (same weight banks): two functions over one weight array. */
  takeBody(): string {
    const body = this.body();
    this.lines.length = 0;
    return body;
  }

  /** Each bank's packed blocks as buffer bytes for `array<mat4x4<WT>, n>`. */
  packed(): Uint8Array[] {
    return this.banks.map((b) => {
      const f = Float32Array.from(b.length ? b : new Array<number>(16).fill(0));
      if (this.weightType === 'f32') return new Uint8Array(f.buffer);
      return new Uint8Array(float32ToFloat16Bits(f).buffer);
    });
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function vecOf(scalars: string[]): string {
  const parts = [0, 1, 2, 3].map((i) => scalars[i] ?? '0.0');
  const m = /^(.+)\.x$/.exec(parts[0]);
  if (m && parts.every((p, i) => p === `${m[1]}.${LANES[i]}`)) return m[1];
  return `vec4f(${parts.join(', ')})`;
}

/**
 * FiLM lanes base+4j .. base+4j+3 (clamped to `last`) of a uniform `array<vec4f>`: one vec4 read
 * where the base is vec4-aligned, lane by lane otherwise.
 */
function filmVec(array: string, base: number, last: number): string {
  if (base % 4 === 0 && (last + 1) % 4 === 0) return `${array}[${base / 4}u + j]`;
  const lane = (r: number) => `${array}[min(${base}u + 4u * j + ${r}u, ${last}u) >> 2u][min(${base}u + 4u * j + ${r}u, ${last}u) & 3u]`;
  return `vec4f(${[0, 1, 2, 3].map(lane).join(', ')})`;
}

/** Groups scalar input templates into vec4 `let`s (a whole existing vec4 is reused as is). */
function blockVectors(name: string, inputs: string[], line: (template: string) => void): string[] {
  const out: string[] = [];
  for (let k = 0; 4 * k < inputs.length; k++) {
    const v = vecOf(inputs.slice(4 * k, 4 * k + 4));
    if (!v.startsWith('vec4f(')) out.push(v);
    else {
      const n = v.includes('#') ? `${name}_in${k}#` : `${name}_in${k}`;
      line(`let ${n} = ${v};`);
      out.push(n);
    }
  }
  return out;
}

export function wgslFloat(v: number): string {
  const s = Math.fround(v).toString();
  return /[.e]/.test(s) ? s : `${s}.0`;
}
