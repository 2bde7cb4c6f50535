/**
 * Assembles a WGSL module: a prelude of `const` dimensions derived from the avatar's config
 * (private arrays need constant sizes, so these cannot be `override`s), then shared code from
 * shaders/common/, then the stage's own file. Workgroup sizes stay `override` constants.
 */
import { SHADERS, type ShaderName } from '../../shaders/index.ts';

export type ConstValue = number | boolean;

export interface ModuleSpec {
  /** Stage files and shared files, in order; all are concatenated after the prelude. */
  parts: ShaderName[];
  consts: Record<string, ConstValue>;
  /** Weight scalar type: 'f16' enables the extension. */
  weightType: 'f32' | 'f16';
  /** Generated WGSL appended after the parts (module-scope order does not matter in WGSL). */
  extra?: string;
}

function constLine(name: string, v: ConstValue): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`WGSL const name ${name} is not an upper-case identifier`);
  if (typeof v === 'boolean') return `const ${name}: bool = ${v};`;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`WGSL const ${name}: expected a u32, got ${v}`);
  return `const ${name}: u32 = ${v}u;`;
}

export function buildModule(spec: ModuleSpec): string {
  const head: string[] = [];
  if (spec.weightType === 'f16') head.push('enable f16;');
  head.push(`alias WT = ${spec.weightType};`);
  for (const [k, v] of Object.entries(spec.consts)) head.push(constLine(k, v));
  return [head.join('\n'), ...spec.parts.map((p) => SHADERS[p]), ...(spec.extra ? [spec.extra] : [])].join('\n\n');
}

/** Splits a 1-D amount of workgroups over x and y (x at most 32768) as the kernels expect. */
export function splitGroups(groups: number): [number, number] {
  if (groups <= 0) return [0, 1];
  const x = Math.min(groups, 32768);
  return [x, Math.ceil(groups / x)];
}
