/**
 * The float16 weight path, which no CI adapter can run (SwiftShader has no shader-f16): every
 * module the renderer builds with f16 weights goes through Dawn's WGSL front end on the null
 * backend (tests/helpers/webgpu.ts nullBackendGpu), which type-checks `enable f16` code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Avatar } from '../../worker/avatar/types.ts';
import { acquireGpu, type GpuContext } from '../../worker/gpu/device.ts';
import { GpuFastRenderer } from '../../worker/render/fast-renderer.ts';
import { GpuRenderer, type GpuRendererOptions } from '../../worker/render/renderer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { officialAvatar, tinyFeatureAvatar } from '../helpers/webgpu-avatar.ts';
import { nullBackendGpu, recordingDevice, type RecordedModule } from '../helpers/webgpu.ts';

/** Modules whose code depends on the weight type; the rest are always built as f32. */
const WEIGHT_MODULES = ['r2t.condition.landmarks', 'r2t.condition.film'];

let ctx: GpuContext;

/** Builds a renderer on the null device and returns every module it created. */
async function modulesFor(avatar: Avatar, options: GpuRendererOptions): Promise<RecordedModule[]> {
  const recorded: RecordedModule[] = [];
  const device = recordingDevice(ctx.device, recorded);
  // The null adapter keeps WebGPU's default limits (8 storage buffers per stage): creating the
  // whole renderer there shows every pipeline layout fits the limits any adapter offers.
  const r = await GpuRenderer.create(avatar, { ...options, acquire: async () => ({ ...ctx, device }), compile: 'sync' });
  r.destroy();
  return recorded;
}

async function errorsOf(m: GPUShaderModule): Promise<string[]> {
  return (await m.getCompilationInfo()).messages.filter((x) => x.type === 'error').map((x) => `${x.lineNum}:${x.linePos} ${x.message}`);
}

/** Compiles code that is meant to fail, inside an error scope (no uncaptured-error noise). */
async function errorsOfCode(code: string): Promise<string[]> {
  ctx.device.pushErrorScope('validation');
  const m = ctx.device.createShaderModule({ label: 'r2t.test.negative', code });
  const scoped = await ctx.device.popErrorScope();
  const errors = await errorsOf(m);
  expect(scoped === null, 'the validation scope and the compilation info agree').toBe(errors.length === 0);
  return errors;
}

const configs: [string, () => Avatar][] = [
  ['official config (full-size tables, torso, eye)', () => officialAvatar({ size: 16 })],
  ['tiny tiled avatar with torso and eye input', () => tinyAvatar({ torso: true })],
  ['tiny hashed avatar without torso or eye input', () => tinyAvatar({ torso: false, eyeInput: false, gridType: 'hash', seed: 5 })],
  ['tiny avatar, 1 feature per level', () => tinyFeatureAvatar({ headFeatures: 1, torsoFeatures: 1 })],
  ['tiny avatar, 3 features per level', () => tinyFeatureAvatar({ headFeatures: 3, torsoFeatures: 3 })],
  ['tiny avatar, 8 features per level', () => tinyFeatureAvatar({ headFeatures: 8, torsoFeatures: 8 })],
];

describe('float16 shaders pass a WGSL front end (Dawn null backend with shader-f16)', () => {
  beforeAll(async () => {
    ctx = await acquireGpu({ gpu: await nullBackendGpu() });
  });
  afterAll(() => ctx?.device.destroy());

  it('the null backend offers shader-f16 and its front end rejects a mistyped f16 expression', async () => {
    expect(ctx.caps.f16).toBe(true);
    expect((await errorsOfCode('enable f16;\nfn f(a: f16) -> f32 { return a; }')).join('\n')).toMatch(/return statement type must match/);
  });

  for (const [name, make] of configs) {
    it(`every f16 module of the ${name} compiles, for both field kernels (fused at 1 and 4 points per invocation, batch and stepwise)`, async () => {
      const avatar = make();
      const variants = [{ kernels: 'fused', samplesPerInvocation: 1, compositing: 'batch' }, { kernels: 'fused', samplesPerInvocation: 4, compositing: 'stepwise' }, { kernels: 'loop' }] as const;
      for (const variant of variants) {
        const kernels = variant.kernels;
        const mods = await modulesFor(avatar, { precision: 'f16', ...variant });
        const labels = mods.map((m) => m.label);
        const head = kernels === 'fused' ? 'r2t.headField.fused' : 'r2t.headField';
        const torso = avatar.config.torso ? [kernels === 'fused' ? 'r2t.torso.fused' : 'r2t.torso'] : [];
        for (const want of [...WEIGHT_MODULES, head, ...torso, 'r2t.rays', 'r2t.wavefront', 'r2t.output']) expect(labels, kernels).toContain(want);
        for (const m of mods) {
          expect(await errorsOf(m.module), `${kernels} ${m.label}`).toEqual([]);
          if ([...WEIGHT_MODULES, head, ...torso].includes(m.label)) expect(m.code, m.label).toMatch(/^enable f16;\nalias WT = f16;/);
        }
      }
    });
  }

  it('every f16 module of the WebGPU fast mode compiles (the colour-gated head in its two halves, stepwise slots), within the default limits', async () => {
    for (const avatar of [officialAvatar({ size: 16 }), tinyFeatureAvatar({ headFeatures: 3, torsoFeatures: 3 })]) {
      for (const samplesPerInvocation of [1, 4]) {
        const recorded: RecordedModule[] = [];
        const device = recordingDevice(ctx.device, recorded);
        const r = await GpuFastRenderer.create(avatar, { precision: 'f16', samplesPerInvocation, acquire: async () => ({ ...ctx, device }), compile: 'sync' });
        r.destroy();
        const head = recorded.find((m) => m.label === 'r2t.headField.fused');
        expect(head?.code, 'the gated head').toContain('fn head_colour(');
        expect(head!.code).toMatch(/^enable f16;\nalias WT = f16;/);
        for (const m of recorded) expect(await errorsOf(m.module), m.label).toEqual([]);
      }
    }
  });

  it('a dropped f16 -> f32 conversion in the generated fused head is a compile error, not a silent pass', async () => {
    const mods = await modulesFor(tinyFeatureAvatar({ headFeatures: 8, torsoFeatures: 8 }), { precision: 'f16', kernels: 'fused' });
    const head = mods.find((m) => m.label === 'r2t.headField.fused')!;
    expect(head.code).toContain('mat4x4f(wm[');
    expect(await errorsOfCode(head.code)).toEqual([]);
    expect((await errorsOfCode(head.code.replaceAll('mat4x4f(wm[', '(wm['))).length).toBeGreaterThan(0);
    expect((await errorsOfCode(head.code.replace('mat2x4f(vec4f(grid_emb[2u * row])', 'mat2x4f((grid_emb[2u * row])'))).length).toBeGreaterThan(0);
  });
});
