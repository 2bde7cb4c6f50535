/**
 * Generates the fused torso WGSL (shaders/fields/torso-fused.wgsl) and its packed weights.
 * The frame-constant part of both first layers (freq(pose) ++ torso code columns) is folded on
 * the host into per-frame biases (`torsoBiases`), so the shader only multiplies the per-pixel
 * columns. Null for configs the fused kernel does not cover.
 */
import type { Avatar } from '../avatar/types.ts';
import { MlpBuilder, UNROLL_BLOCK_BUDGET, type WeightHome } from './mlp-codegen.ts';
import { gridVecDecl, MAX_FUSED_FEATURES, packedGridDecl, packedGridInputs, packedGridLoop, withWeightHome, type FusedSource, type WeightLimits } from './head-codegen.ts';
import { tensorF32, type WeightPrecision } from './weights-pack.ts';

const pad4 = (n: number) => 4 * Math.ceil(n / 4);

/** Bindings of the torso kernel's weight banks: 2, then after the stage file's own (0..7). */
const TORSO_BANK_BINDINGS = [2, 8, 9, 10, 11, 12, 13, 14];

/**
 * Position tables (fast mode, worker/model/torso-folded.ts): both first layers' freq(x) columns
 * summed per image row and per image column on the host, stored after the frame biases in
 * `tbias` (rows at TROW0, columns at TCOL0, TSTRIDE vec4s each: deform then net units), so a
 * pixel adds two table rows instead of multiplying its position encoding.
 */
export interface TorsoTables {
  width: number;
  height: number;
}

/**
 * `fn torso_mlp(xs: array<vec2f, SPI>) -> array<vec4f, SPI>` (alpha, rgb of SPI = `samples`
 * pixels) and `fn torso_eval(xs, rcs: array<vec2u, SPI>)` (rcs: each pixel's row and column,
 * read with `tables`). biasLength: the vec4-padded frame biases; tbiasLength: the whole `tbias`.
 */
export function buildTorsoFused(avatar: Avatar, precision: WeightPrecision, limits?: WeightLimits, samples = 1, tables?: TorsoTables): (FusedSource & { biasLength: number; tbiasLength: number }) | null {
  const r = withWeightHome(precision, limits, (limits?.maxUniformBuffersPerShaderStage ?? 0) - 2, (home) => buildTorso(avatar, precision, home, samples, tables));
  const t = avatar.config.torso;
  if (!r || !t) return null;
  const biasLength = pad4(t.deformHiddenDim) + pad4(t.netHiddenDim);
  return { ...r, biasLength, tbiasLength: biasLength * (1 + (tables ? tables.width + tables.height : 0)) };
}

function buildTorso(avatar: Avatar, precision: WeightPrecision, home: WeightHome, samples: number, tables?: TorsoTables) {
  const t = avatar.config.torso;
  if (!t || t.grid.featuresPerLevel > MAX_FUSED_FEATURES || t.grid.inputDim !== 2) return null;
  const posLen = 2 + 4 * t.positionDegree;
  const tin = posLen + 6 + 12 * t.poseDegree + t.individualDim;
  const gridOut = t.grid.levels * t.grid.featuresPerLevel;
  const b = new MlpBuilder('wm', precision, home, samples);
  // Per-point inputs in arrays of whole vec4s, filled in loops (see packedGridLoop): pe[s] holds
  // x, freq(x) (2 + 4 * positionDegree values) packed four to a vec4.
  const P = t.positionDegree;
  b.line(`var pe: array<array<vec4f, ${Math.ceil(posLen / 4)}>, SPI>;`);
  b.line('for (var s = 0u; s < SPI; s++) {');
  b.line('  let x = xs[s];');
  b.line('  var tail = x;');
  b.line(`  for (var k = 0u; k < ${P}u; k++) {`);
  b.line('    let f = f32(1u << k);');
  b.line('    let e = sin(vec4f(x * f, x * f + HALF_PI));');
  b.line('    pe[s][k] = vec4f(tail, e.xy);');
  b.line('    tail = e.zw;');
  b.line('  }');
  b.line(`  pe[s][${P}u] = vec4f(tail, 0.0, 0.0);`);
  b.line('}');
  const pos = Array.from({ length: posLen }, (_, i) => `pe[#i][${i >> 2}].${'xyzw'[i & 3]}`);
  const cols = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
  const W = (name: string, rows: number, colsN: number, columns?: number[]) => ({ weights: tensorF32(avatar, name), rows, cols: colsN, columns });
  const stride4 = (pad4(t.deformHiddenDim) + pad4(t.netHiddenDim)) / 4;
  const jd = pad4(t.deformHiddenDim) / 4;
  const jn = pad4(t.netHiddenDim) / 4;
  const rowAt = (k: string) => `tbias[TROW0 + rcs[#i].x * TSTRIDE + ${k}]`;
  const colAt = (k: string) => `tbias[TCOL0 + rcs[#i].y * TSTRIDE + ${k}]`;
  let d0: string[];
  if (tables) {
    // d0 = relu(row table + column table + frame bias): no multiply-adds per pixel.
    b.line(`var d0#: array<vec4f, ${jd}>;`);
    b.line(`for (var j = 0u; j < ${jd}u; j++) { d0#[j] = max(tbias[j] + ${rowAt('j')} + ${colAt('j')}, vec4f(0.0)); }`);
    d0 = [];
    for (let j = 0; j < jd; j++) for (let r = 0; r < 4 && 4 * j + r < t.deformHiddenDim; r++) d0.push(`d0#[${j}].${'xyzw'[r]}`);
  } else {
    d0 = b.layer('d0', W('torso_deform_net.net.0.weight', t.deformHiddenDim, tin, cols(posLen)), pos, { biasRelu: { array: 'tbias', offset: 0 } });
  }
  const d1 = b.layer('d1', W('torso_deform_net.net.1.weight', t.deformHiddenDim, t.deformHiddenDim), d0, 'relu');
  const d2 = b.layer('d2', W('torso_deform_net.net.2.weight', 2, t.deformHiddenDim), d1);
  b.line(`let xd# = clamp(xs[#i] + vec2f(${d2[0]}, ${d2[1]}), vec2f(-1.0), vec2f(1.0));`);
  // The grid in loops over points and levels (code size, see head-codegen.ts).
  b.line(packedGridDecl(t.grid.levels, t.grid.featuresPerLevel));
  b.line('var xds: array<vec2f, SPI>;');
  b.line('xds[#i] = xd#;');
  b.line('for (var s = 0u; s < SPI; s++) {');
  b.line('  let u = vec3f((xds[s] + 1.0) * 0.5, 0.0);');
  b.line(packedGridLoop(t.grid.levels, t.grid.featuresPerLevel));
  b.line('}');
  const gin = packedGridInputs(t.grid.levels, t.grid.featuresPerLevel);
  const netIn = gridOut + tin;
  let a0: string[];
  if (tables) {
    b.line(`var nb#: array<vec4f, ${jn}>;`);
    b.line(`for (var j = 0u; j < ${jn}u; j++) { nb#[j] = tbias[${jd}u + j] + ${rowAt(`${jd}u + j`)} + ${colAt(`${jd}u + j`)}; }`);
    a0 = b.layer('a0', W('torso_net.net.0.weight', t.netHiddenDim, netIn, cols(gridOut)), gin, { biasRelu: { array: 'nb#', offset: 0 } });
  } else {
    a0 = b.layer('a0', W('torso_net.net.0.weight', t.netHiddenDim, netIn, cols(gridOut + posLen)), [...gin, ...pos], { biasRelu: { array: 'tbias', offset: pad4(t.deformHiddenDim) } });
  }
  const a1 = b.layer('a1', W('torso_net.net.1.weight', t.netHiddenDim, t.netHiddenDim), a0, 'relu');
  const a2 = b.layer('a2', W('torso_net.net.2.weight', 4, t.netHiddenDim), a1);
  b.line('var out: array<vec4f, SPI>;');
  b.line(`out[#i] = vec4f(1.0) / (vec4f(1.0) + exp(-vec4f(${a2.join(', ')})));`);
  b.line('return out;');
  if (b.blockCount > UNROLL_BLOCK_BUDGET) return null;
  const biasLength = pad4(t.deformHiddenDim) + pad4(t.netHiddenDim);
  const bankBindings = TORSO_BANK_BINDINGS.slice(0, b.bankCount);
  const done = () => {
    const tbiasLen = stride4 * (1 + (tables ? tables.width + tables.height : 0));
    const tableConsts = `const TSTRIDE: u32 = ${stride4}u;\nconst TROW0: u32 = ${stride4}u;\nconst TCOL0: u32 = ${stride4 * (1 + (tables?.height ?? 0))}u;`;
    const entry = tables
      ? `fn torso_eval(xs: array<vec2f, SPI>, rcs: array<vec2u, SPI>) -> array<vec4f, SPI> {\n${b.body()}\n}`
      : `fn torso_mlp(xs: array<vec2f, SPI>) -> array<vec4f, SPI> {\n${b.body()}\n}\n\nfn torso_eval(xs: array<vec2f, SPI>, rcs: array<vec2u, SPI>) -> array<vec4f, SPI> {\n  return torso_mlp(xs);\n}`;
    const code = [gridVecDecl(t.grid.featuresPerLevel, precision), b.declarations(bankBindings), `const TBIAS_LEN: u32 = ${tbiasLen}u;`, tableConsts, `const SPI: u32 = ${samples}u;`, entry].join('\n\n');
    return { code, blocks: b.packed(), bankBindings, blockCount: b.blockCount };
  };
  return { b, done };
}

/** Per-frame biases: W[:, per-pixel columns..] . tail for the deform and torso first layers. */
export function torsoBiases(avatar: Avatar, w: { wd: Float32Array; wn: Float32Array }, tail: Float32Array, out: Float32Array): void {
  const t = avatar.config.torso!;
  const { wd, wn } = w;
  const posLen = 2 + 4 * t.positionDegree;
  const tin = posLen + tail.length;
  const gridOut = t.grid.levels * t.grid.featuresPerLevel;
  out.fill(0);
  for (let o = 0; o < t.deformHiddenDim; o++) {
    let s = 0;
    for (let i = 0; i < tail.length; i++) s += wd[o * tin + posLen + i] * tail[i];
    out[o] = s;
  }
  const at = pad4(t.deformHiddenDim);
  for (let o = 0; o < t.netHiddenDim; o++) {
    let s = 0;
    for (let i = 0; i < tail.length; i++) s += wn[o * (gridOut + tin) + gridOut + posLen + i] * tail[i];
    out[at + o] = s;
  }
}
