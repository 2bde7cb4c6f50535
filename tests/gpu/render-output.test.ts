import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backgroundValues } from '../../worker/render/frame-buffers.ts';
import { placement } from '../../worker/render/compose-pass.ts';
import { rgbaToI420 } from '../../worker/render/i420.ts';
import { GpuRenderer } from '../../worker/render/renderer.ts';
import { frontPose, officialAvatar, windowPointsFor } from '../helpers/webgpu-avatar.ts';
import { nodeGpu, nodeGpuConfigured } from '../helpers/webgpu.ts';

/** CPU bilinear resample matching compose.wgsl's placement (the reference for the GPU). */
function cpuCompose(native: Uint8Array, bg: Float32Array, sw: number, sh: number, dw: number, dh: number): { rgba: Float32Array; inside: Uint8Array } {
  const { scale, ox, oy } = placement({ width: sw, height: sh }, { width: dw, height: dh });
  const rgba = new Float32Array(dw * dh * 4);
  const inside = new Uint8Array(dw * dh);
  const mirror = (i: number, n: number) => {
    const m = (((i % (2 * n)) + 2 * n) % (2 * n));
    return m >= n ? 2 * n - 1 - m : m;
  };
  const clampI = (i: number, n: number) => Math.min(n - 1, Math.max(0, i));
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const px = x + 0.5, py = y + 0.5;
      const u = (px - ox) / scale - 0.5, v = (py - oy) / scale - 0.5;
      const isIn = px >= ox && px < ox + sw * scale && py >= oy && py < oy + sh * scale;
      const x0 = Math.floor(u), y0 = Math.floor(v), fx = u - x0, fy = v - y0;
      const at = (xx: number, yy: number, ch: number) => (isIn ? native[(clampI(yy, sh) * sw + clampI(xx, sw)) * 4 + ch] : bg[(mirror(yy, sh) * sw + mirror(xx, sw)) * 3 + ch] * 255);
      for (let ch = 0; ch < 3; ch++) {
        const top = at(x0, y0, ch) * (1 - fx) + at(x0 + 1, y0, ch) * fx;
        const bot = at(x0, y0 + 1, ch) * (1 - fx) + at(x0 + 1, y0 + 1, ch) * fx;
        rgba[(y * dw + x) * 4 + ch] = Math.min(255, Math.max(0, Math.floor(top * (1 - fy) + bot * fy + 0.5)));
      }
      rgba[(y * dw + x) * 4 + 3] = 255;
      inside[y * dw + x] = isIn ? 1 : 0;
    }
  }
  return { rgba, inside };
}

describe('WebGPU renderer output frames (texture, RGBA, I420)', () => {
  let renderer: GpuRenderer;
  const avatar = officialAvatar({ size: 48 });
  const frame = { windowPoints: windowPointsFor(340, 1), pose: frontPose(0.1), eye: 0.25 };
  beforeAll(async () => {
    if (!nodeGpuConfigured()) throw new Error('Node WebGPU needs LD_LIBRARY_PATH/VK_ICD_FILENAMES: run npx vitest run -c tests/gpu/vitest.config.ts');
    renderer = await GpuRenderer.create(avatar, { gpu: await nodeGpu() });
  });
  afterAll(() => renderer?.destroy());

  it('at native size the output RGBA equals the rendered frame and its I420 planes equal the CPU BT.601 limited-range conversion', async () => {
    const native = await renderer.render(frame, ['rgba']);
    const out = await renderer.renderOutput(frame, { readback: ['rgba', 'i420'] });
    expect([out.width, out.height]).toEqual([48, 48]);
    expect(Array.from(out.rgba!)).toEqual(Array.from(native.rgba!));
    const cpu = rgbaToI420(out.rgba!, 48, 48);
    expect(out.i420!.length).toBe(48 * 48 * 1.5);
    let maxDiff = 0;
    let exact = 0;
    for (let i = 0; i < cpu.length; i++) {
      const d = Math.abs(cpu[i] - out.i420![i]);
      maxDiff = Math.max(maxDiff, d);
      if (d === 0) exact++;
    }
    expect(maxDiff).toBeLessThanOrEqual(1);
    expect(exact / cpu.length).toBeGreaterThan(0.999);
    // Limited range: luma within 16..235.
    for (let i = 0; i < 48 * 48; i++) expect(out.i420![i] >= 16 && out.i420![i] <= 235).toBe(true);
  });

  it('a 1280x720 output holds the avatar scaled to the output height and centred (within 1 level of a CPU resample) over the mirrored background', async () => {
    const native = await renderer.render(frame, ['rgba']);
    const out = await renderer.renderOutput(frame, { width: 1280, height: 720, readback: ['rgba', 'i420'] });
    expect(out.rgba!.length).toBe(1280 * 720 * 4);
    expect(out.texture.width).toBe(1280);
    const ref = cpuCompose(native.rgba!, backgroundValues(avatar), 48, 48, 1280, 720);
    let maxIn = 0, maxOut = 0, inside = 0;
    for (let i = 0; i < 1280 * 720; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const d = Math.abs(out.rgba![i * 4 + ch] - ref.rgba[i * 4 + ch]);
        if (ref.inside[i]) maxIn = Math.max(maxIn, d);
        else maxOut = Math.max(maxOut, d);
      }
      inside += ref.inside[i];
    }
    expect(inside).toBe(720 * 720);
    expect(maxIn).toBeLessThanOrEqual(1);
    expect(maxOut).toBeLessThanOrEqual(1);
    const cpu = rgbaToI420(out.rgba!, 1280, 720);
    let worst = 0;
    for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(cpu[i] - out.i420![i]));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('rejects an odd output size with CONFIG naming the size', async () => {
    await expect(renderer.renderOutput(frame, { width: 641, height: 480 })).rejects.toThrow(/641x480/);
  });
});
