/**
 * Generates the fused head-field WGSL for an avatar (see shaders/fields/head-fused.wgsl) and
 * packs its weights as 4x4 blocks. Returns null for configs the fused kernel does not cover
 * (more than 4 features per level, or layers too wide to unroll); those use the loop kernel.
 */
import type { Avatar } from '../avatar/types.ts';
import { shDim } from '../avatar/config.ts';
import { blockBytes, MlpBuilder, UNROLL_BLOCK_BUDGET, wgslFloat, type WeightHome } from './mlp-codegen.ts';
import { tensorF32, type WeightPrecision } from './weights-pack.ts';

export interface FusedSource {
  /** WGSL declarations and functions to put before the stage file. */
  code: string;
  /** Packed blocks of each weight bank, bound at `bankBindings` (same order). */
  blocks: Uint8Array[];
  bankBindings: number[];
  /** Where the banks live: 'uniform' or 'storage' buffers. */
  home: WeightHome['kind'];
  blockCount: number;
}

/** Device limits that decide where the fused kernels keep their weights. */
export interface WeightLimits {
  maxUniformBufferBindingSize: number;
  maxUniformBuffersPerShaderStage: number;
}

/**
 * Builds with the weights in uniform banks where every layer fits one bank and the banks fit
 * the free uniform bindings, else in one storage array. `build` must be pure in the builder.
 */
export function withWeightHome(precision: WeightPrecision, limits: WeightLimits | undefined, freeUniforms: number, build: (home: WeightHome) => { b: MlpBuilder; done: () => Omit<FusedSource, 'home'> } | null): FusedSource | null {
  if (limits && freeUniforms > 0) {
    const bankBlocks = Math.floor(Math.min(limits.maxUniformBufferBindingSize, 1 << 20) / blockBytes(precision));
    const r = build({ kind: 'uniform', bankBlocks });
    if (!r) return null;
    if (!r.b.overflow && r.b.bankCount <= Math.min(freeUniforms, limits.maxUniformBuffersPerShaderStage)) return { ...r.done(), home: 'uniform' };
  }
  const r = build({ kind: 'storage' });
  return r ? { ...r.done(), home: 'storage' } : null;
}

/** Declares `grid_emb` at binding 0 and `grid_vec(row) -> vec4f` for F features per row. */
export function gridVecDecl(features: number, precision: WeightPrecision): string {
  const wt = precision;
  if (features === 4) return `@group(0) @binding(0) var<storage, read> grid_emb: array<vec4<${wt}>>;\nfn grid_vec(row: u32) -> vec4f {\n  return vec4f(grid_emb[row]);\n}`;
  if (features === 2) return `@group(0) @binding(0) var<storage, read> grid_emb: array<vec2<${wt}>>;\nfn grid_vec(row: u32) -> vec4f {\n  return vec4f(vec2f(grid_emb[row]), 0.0, 0.0);\n}`;
  const lanes = [0, 1, 2, 3].map((i) => (i < features ? `f32(grid_emb[b + ${i}u])` : '0.0'));
  return `@group(0) @binding(0) var<storage, read> grid_emb: array<${wt}>;\nfn grid_vec(row: u32) -> vec4f {\n  let b = row * ${features}u;\n  return vec4f(${lanes.join(', ')});\n}`;
}

/** Bindings of the head kernel's weight banks: 2, then after the stage file's own (0..10). */
const HEAD_BANK_BINDINGS = [2, 11, 12, 13, 14, 15, 16, 17];

export function buildHeadFused(avatar: Avatar, precision: WeightPrecision, limits?: WeightLimits): FusedSource | null {
  // The stage file has two uniforms of its own.
  return withWeightHome(precision, limits, (limits?.maxUniformBuffersPerShaderStage ?? 0) - 2, (home) => buildHead(avatar, precision, home));
}

function buildHead(avatar: Avatar, precision: WeightPrecision, home: WeightHome) {
  const h = avatar.config.head;
  const F = h.grid.featuresPerLevel;
  if (F > 4 || h.grid.inputDim !== 3) return null;
  const L = h.grid.levels;
  const HID = h.hiddenDim;
  const SH = shDim(h.shDegree);
  const sigIn = L * F + (h.eyeInput ? 1 : 0);
  const colIn = SH + h.geoFeatDim + h.individualDim;
  const q = (n: number) => Math.ceil(n / 4);
  const estimate = q(HID) * q(sigIn) + q(HID) * q(HID) + q(h.geoFeatDim + 1) * q(HID) + q(h.colorHiddenDim) * q(colIn) + q(h.colorHiddenDim);
  if (estimate > UNROLL_BLOCK_BUDGET) return null;
  const b = new MlpBuilder('wm', precision, home);
  b.line('let u = (x + 1.0) * 0.5;');
  b.line('let inr = all(u >= vec3f(0.0)) && all(u <= vec3f(1.0));');
  const inputs: string[] = [];
  for (let l = 0; l < L; l++) {
    b.line(`let g${l} = select(vec4f(0.0), grid_feat(u, ${l}u), inr);`);
    for (let c = 0; c < F; c++) inputs.push(`g${l}.${'xyzw'[c]}`);
  }
  if (h.eyeInput) inputs.push('fp.eye');
  const film = (base: number) => ({ film: { array: 'film', shift: base, scale: base + HID, last: 4 * HID - 1 } });
  const layer = (name: string) => ({ weights: tensorF32(avatar, name), rows: 0, cols: 0 });
  const src = (name: string, rows: number, cols: number, order?: number[]) => ({ ...layer(name), rows, cols, order });
  const s0 = b.layer('s0', src('sigma_net.net.0.weight', HID, sigIn), inputs, film(0));
  const s1 = b.layer('s1', src('sigma_net.net.1.weight', HID, HID), s0, film(2 * HID));
  // Geo features first so they stay vec4-aligned for the colour net; sigma last.
  const order = [...Array.from({ length: h.geoFeatDim }, (_, i) => i + 1), 0];
  const s2 = b.layer('s2', src('sigma_net.net.2.weight', h.geoFeatDim + 1, HID, order), s1);
  b.line('let sh = sh_encode(d);');
  const ind = tensorF32(avatar, 'individual_code');
  const cin = [...Array.from({ length: SH }, (_, i) => `sh[${i}]`), ...s2.slice(0, h.geoFeatDim), ...Array.from(ind, (v) => wgslFloat(v))];
  const c0 = b.layer('c0', src('color_net.net.0.weight', h.colorHiddenDim, colIn), cin, 'relu');
  const c1 = b.layer('c1', src('color_net.net.1.weight', 3, h.colorHiddenDim), c0);
  b.line(`return vec4f(vec3f(1.0) / (vec3f(1.0) + exp(-vec3f(${c1.join(', ')}))), exp(${s2[h.geoFeatDim]}));`);
  const bankBindings = HEAD_BANK_BINDINGS.slice(0, b.bankCount);
  const done = () => {
    const code = [gridVecDecl(F, precision), b.declarations(bankBindings), `const FILM_LEN: u32 = ${4 * HID}u;`, `fn head_mlp(x: vec3f, d: vec3f) -> vec4f {\n${b.body()}\n}`].join('\n\n');
    return { code, blocks: b.packed(), bankBindings, blockCount: b.blockCount };
  };
  return { b, done };
}
