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

/** `fn torso_mlp(xs: array<vec2f, SPI>) -> array<vec4f, SPI>` (alpha, rgb of SPI = `samples` pixels). */
export function buildTorsoFused(avatar: Avatar, precision: WeightPrecision, limits?: WeightLimits, samples = 1): (FusedSource & { biasLength: number }) | null {
  const r = withWeightHome(precision, limits, (limits?.maxUniformBuffersPerShaderStage ?? 0) - 2, (home) => buildTorso(avatar, precision, home, samples));
  const t = avatar.config.torso;
  return r && t ? { ...r, biasLength: pad4(t.deformHiddenDim) + pad4(t.netHiddenDim) } : null;
}

function buildTorso(avatar: Avatar, precision: WeightPrecision, home: WeightHome, samples: number) {
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
  const d0 = b.layer('d0', W('torso_deform_net.net.0.weight', t.deformHiddenDim, tin, cols(posLen)), pos, { biasRelu: { array: 'tbias', offset: 0 } });
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
  const a0 = b.layer('a0', W('torso_net.net.0.weight', t.netHiddenDim, netIn, cols(gridOut + posLen)), [...gin, ...pos], { biasRelu: { array: 'tbias', offset: pad4(t.deformHiddenDim) } });
  const a1 = b.layer('a1', W('torso_net.net.1.weight', t.netHiddenDim, t.netHiddenDim), a0, 'relu');
  const a2 = b.layer('a2', W('torso_net.net.2.weight', 4, t.netHiddenDim), a1);
  b.line('var out: array<vec4f, SPI>;');
  b.line(`out[#i] = vec4f(1.0) / (vec4f(1.0) + exp(-vec4f(${a2.join(', ')})));`);
  b.line('return out;');
  if (b.blockCount > UNROLL_BLOCK_BUDGET) return null;
  const biasLength = pad4(t.deformHiddenDim) + pad4(t.netHiddenDim);
  const bankBindings = TORSO_BANK_BINDINGS.slice(0, b.bankCount);
  const done = () => {
    const code = [gridVecDecl(t.grid.featuresPerLevel, precision), b.declarations(bankBindings), `const TBIAS_LEN: u32 = ${biasLength / 4}u;`, `const SPI: u32 = ${samples}u;`, `fn torso_mlp(xs: array<vec2f, SPI>) -> array<vec4f, SPI> {\n${b.body()}\n}`].join('\n\n');
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
