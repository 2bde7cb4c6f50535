/**
 * Generates the fused head-field WGSL for an avatar (see shaders/fields/head-fused.wgsl) and
 * packs its weights as 4x4 blocks. Returns null for configs the fused kernel does not cover
 * (layers too wide to unroll); those use the loop kernel. Every grid width the format allows
 * (1..8 features per level) is covered: levels of 5..8 features are two vec4s (a mat2x4f).
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

/** Most features per grid level the fused kernels read (two vec4 halves). */
export const MAX_FUSED_FEATURES = 8;

/**
 * Declares `grid_emb` at binding 0, `alias GVec` (vec4f for up to 4 features per row, mat2x4f
 * for 5..8: column 0 holds features 0..3) and `grid_vec(row) -> GVec`, zero padded. Rows of 2,
 * 4 or 8 features are read as whole vec2/vec4 loads; other widths feature by feature.
 */
export function gridVecDecl(features: number, precision: WeightPrecision): string {
  if (!Number.isInteger(features) || features < 1 || features > MAX_FUSED_FEATURES) throw new Error(`gridVecDecl: features per level must be 1..${MAX_FUSED_FEATURES}, got ${features}`);
  const wt = precision;
  const decl = (elem: string) => `@group(0) @binding(0) var<storage, read> grid_emb: array<${elem}>;`;
  const fn = (type: string, body: string) => `alias GVec = ${type};\nfn grid_vec(row: u32) -> GVec {\n${body}\n}`;
  if (features === 4) return `${decl(`vec4<${wt}>`)}\n${fn('vec4f', '  return vec4f(grid_emb[row]);')}`;
  if (features === 8) return `${decl(`vec4<${wt}>`)}\n${fn('mat2x4f', '  return mat2x4f(vec4f(grid_emb[2u * row]), vec4f(grid_emb[2u * row + 1u]));')}`;
  if (features === 2) return `${decl(`vec2<${wt}>`)}\n${fn('vec4f', '  return vec4f(vec2f(grid_emb[row]), 0.0, 0.0);')}`;
  const lane = (i: number) => (i < features ? `f32(grid_emb[b + ${i}u])` : '0.0');
  const vec = (from: number) => `vec4f(${[0, 1, 2, 3].map((i) => lane(from + i)).join(', ')})`;
  const value = features > 4 ? `mat2x4f(${vec(0)}, ${vec(4)})` : vec(0);
  return `${decl(wt)}\n${fn(features > 4 ? 'mat2x4f' : 'vec4f', `  let b = row * ${features}u;\n  return ${value};`)}`;
}

/** WGSL expression of feature c of a level's GVec named v (see gridVecDecl). */
export function gridLane(v: string, features: number, c: number): string {
  const lane = 'xyzw'[c & 3];
  return features > 4 ? `${v}[${c >> 2}].${lane}` : `${v}.${lane}`;
}

/**
 * WGSL (inside a `for (var s ...)` loop with `u` in scope) that writes the L levels' F features
 * of point s densely into `gp[s]`, an array of vec4s declared by `packedGridDecl`, and the input
 * templates that read them back (whole vec4s for the MLP builder: no per-point `let`s, which at
 * several points per invocation kept hundreds of vectors live across every layer loop).
 * `scale` multiplies each level's features (the head's inside-the-box factor).
 */
export function packedGridLoop(levels: number, features: number, scale = ''): string {
  const mul = scale ? ` * ${scale}` : '';
  if (features === 4) return `  for (var l = 0u; l < ${levels}u; l++) { gp[s][l] = grid_feat(u, l)${mul}; }`;
  const read = (c: number) => gridLane('g', features, c);
  const body = Array.from({ length: features }, (_, c) => `gp[s][(l * ${features}u + ${c}u) / 4u][(l * ${features}u + ${c}u) % 4u] = ${read(c)};`).join(' ');
  return `  for (var l = 0u; l < ${levels}u; l++) { let g = grid_feat(u, l)${mul}; ${body} }`;
}

export function packedGridDecl(levels: number, features: number): string {
  return `var gp: array<array<vec4f, ${Math.ceil((levels * features) / 4)}>, SPI>;`;
}

/** Input templates for the packed grid features (see packedGridLoop). */
export function packedGridInputs(levels: number, features: number): string[] {
  return Array.from({ length: levels * features }, (_, i) => `gp[#i][${i >> 2}].${'xyzw'[i & 3]}`);
}

/** Bindings of the head kernel's weight banks: 2, then after the stage file's own (0..9). */
const HEAD_BANK_BINDINGS = [2, 10, 11, 12, 13, 14, 15, 16];

/**
 * `fn head_mlp(xs: array<vec3f, SPI>, ds: array<vec3f, SPI>) -> array<vec4f, SPI>` (rgb, sigma of
 * SPI = `samples` points) and its packed weights.
 */
export function buildHeadFused(avatar: Avatar, precision: WeightPrecision, limits?: WeightLimits, samples = 1, sensitivity = false, gated = false): FusedSource | null {
  if (gated && !sensitivity) throw new Error('buildHeadFused: the colour gate is fast mode\'s (it needs the sensitivity)');
  // The stage file has three uniforms of its own (fast mode's sensitivity a fourth).
  return withWeightHome(precision, limits, (limits?.maxUniformBuffersPerShaderStage ?? 0) - (sensitivity ? 4 : 3), (home) => buildHead(avatar, precision, home, samples, sensitivity, gated));
}

/**
 * With `sensitivity` (fast mode) head_mlp also leaves in `head_sens[s]` how far this frame's
 * FiLM vectors moved sample s's hidden units since the previous frame's (`film_prev`, declared
 * by shaders/fast/fast-head.wgsl): max over both FiLM layers of |h * d_scale + d_shift|, as
 * worker/model/fast-field.ts headSigma computes it.
 * With `gated` (fast mode's colour gate, shaders/fast/fast-head-gated.wgsl) the net comes in its
 * two halves instead, as fast-field.ts headSigma and headColour: `fn head_density(xs, ids) ->
 * array<f32, SPI>` (sigma; the geometry features go to the fast state at FAST_RAY_GEO + GEO * ray)
 * and `fn head_colour(ds, ids) -> array<vec3f, SPI>` (reads them back), one weight array for both.
 */
function buildHead(avatar: Avatar, precision: WeightPrecision, home: WeightHome, samples: number, sensitivity: boolean, gated: boolean) {
  const h = avatar.config.head;
  const F = h.grid.featuresPerLevel;
  if (F > MAX_FUSED_FEATURES || h.grid.inputDim !== 3) return null;
  const L = h.grid.levels;
  const HID = h.hiddenDim;
  const SH = shDim(h.shDegree);
  const sigIn = L * F + (h.eyeInput ? 1 : 0);
  const colIn = SH + h.geoFeatDim + h.individualDim;
  const q = (n: number) => Math.ceil(n / 4);
  const estimate = q(HID) * q(sigIn) + q(HID) * q(HID) + q(h.geoFeatDim + 1) * q(HID) + q(h.colorHiddenDim) * q(colIn) + q(h.colorHiddenDim);
  if (estimate > UNROLL_BLOCK_BUDGET) return null;
  const b = new MlpBuilder('wm', precision, home, samples);
  // Encodings in loops over samples and levels: inlining them S x L times made the kernel code
  // so large that SwiftShader spent longer fetching instructions than multiplying.
  b.line(packedGridDecl(L, F));
  if (!gated) b.line(`var shs: array<array<f32, ${SH}>, SPI>;`);
  b.line('for (var s = 0u; s < SPI; s++) {');
  b.line('  let u = (xs[s] + 1.0) * 0.5;');
  b.line('  let gin = select(0.0, 1.0, all(u >= vec3f(0.0)) && all(u <= vec3f(1.0)));');
  // A multiply, not select(), so that the same line serves vec4f and mat2x4f levels.
  b.line(packedGridLoop(L, F, 'gin'));
  if (!gated) b.line('  shs[s] = sh_encode(ds[s]);');
  b.line('}');
  const inputs = packedGridInputs(L, F);
  if (h.eyeInput) inputs.push('fp.eye');
  const delta = sensitivity ? { delta: { array: 'film_prev', into: 'sens' } } : {};
  const film = (base: number) => ({ film: { array: 'film', shift: base, scale: base + HID, last: 4 * HID - 1, ...delta } });
  if (sensitivity) b.line('var sens#: vec4f = vec4f(0.0);');
  const layer = (name: string) => ({ weights: tensorF32(avatar, name), rows: 0, cols: 0 });
  const src = (name: string, rows: number, cols: number, order?: number[]) => ({ ...layer(name), rows, cols, order });
  const s0 = b.layer('s0', src('sigma_net.net.0.weight', HID, sigIn), inputs, film(0));
  const s1 = b.layer('s1', src('sigma_net.net.1.weight', HID, HID), s0, film(2 * HID));
  if (sensitivity) b.line('head_sens[#i] = max(max(sens#.x, sens#.y), max(sens#.z, sens#.w));');
  // Geo features first so they stay vec4-aligned for the colour net; sigma last.
  const order = [...Array.from({ length: h.geoFeatDim }, (_, i) => i + 1), 0];
  const s2 = b.layer('s2', src('sigma_net.net.2.weight', h.geoFeatDim + 1, HID, order), s1);
  let density = '';
  let geo = s2.slice(0, h.geoFeatDim);
  if (gated) {
    geo.forEach((g, k) => b.line(`fast_state[FAST_RAY_GEO + ids[#i] * ${h.geoFeatDim}u + ${k}u] = bitcast<u32>(${g});`));
    b.line('var sigma: array<f32, SPI>;');
    b.line(`sigma[#i] = exp(${s2[h.geoFeatDim]});`);
    b.line('return sigma;');
    density = b.takeBody();
    b.line('let sh# = sh_encode(ds[#i]);');
    geo = geo.map((_, k) => `bitcast<f32>(fast_state[FAST_RAY_GEO + ids[#i] * ${h.geoFeatDim}u + ${k}u])`);
  } else b.line('let sh# = shs[#i];');
  const ind = tensorF32(avatar, 'individual_code');
  const cin = [...Array.from({ length: SH }, (_, i) => `sh#[${i}]`), ...geo, ...Array.from(ind, (v) => wgslFloat(v))];
  const c0 = b.layer('c0', src('color_net.net.0.weight', h.colorHiddenDim, colIn), cin, 'relu');
  const c1 = b.layer('c1', src('color_net.net.1.weight', 3, h.colorHiddenDim), c0);
  const rgb = `vec3f(1.0) / (vec3f(1.0) + exp(-vec3f(${c1.join(', ')})))`;
  if (gated) {
    b.line('var rgb: array<vec3f, SPI>;');
    b.line(`rgb[#i] = ${rgb};`);
    b.line('return rgb;');
  } else {
    b.line('var out: array<vec4f, SPI>;');
    b.line(`out[#i] = vec4f(${rgb}, exp(${s2[h.geoFeatDim]}));`);
    b.line('return out;');
  }
  const bankBindings = HEAD_BANK_BINDINGS.slice(0, b.bankCount);
  const done = () => {
    const sens = sensitivity ? ['var<private> head_sens: array<f32, SPI>;'] : [];
    const fns = gated
      ? [`fn head_density(xs: array<vec3f, SPI>, ids: array<u32, SPI>) -> array<f32, SPI> {\n${density}\n}`, `fn head_colour(ds: array<vec3f, SPI>, ids: array<u32, SPI>) -> array<vec3f, SPI> {\n${b.body()}\n}`]
      : [`fn head_mlp(xs: array<vec3f, SPI>, ds: array<vec3f, SPI>) -> array<vec4f, SPI> {\n${b.body()}\n}`];
    const code = [gridVecDecl(F, precision), b.declarations(bankBindings), `const FILM_VEC4: u32 = ${HID}u;`, `const SPI: u32 = ${samples}u;`, ...sens, ...fns].join('\n\n');
    return { code, blocks: b.packed(), bankBindings, blockCount: b.blockCount };
  };
  return { b, done };
}
