/**
 * An avatar imported in the popup is what the camera shows, in a normal page and in a
 * cross-origin isolated (Zoom-class) page, where the engine frame reads it through the
 * service worker. The far-end pixels are compared with Node renders of the imported avatar
 * and of the built-in demo head: they must match the first and not the second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { AvatarRenderer } from '../../worker/engine/avatar-renderer.ts';
import { launch, type Harness } from './helpers/browser.ts';
import { call, eventually, openFake } from './helpers/app.ts';
import { RENDER_SIDE, renderSteady, silenceFrame } from './helpers/reference.ts';

const NAME = 'Imported tiny head';
// The tiny avatar's camera is 16x12: a 320x240 track shows it scaled exactly, uncropped.
const OUT_W = 320;
const OUT_H = 240;
const W = 16;
const H = 12;

let h: Harness;
let tiny: Uint8ClampedArray;
let demo: Uint8ClampedArray;

/** The 64x64 demo head as the 4:3 track shows it (rows cropped), downscaled to W x H by box averaging. */
function demoAtTrackSize(full: Uint8ClampedArray): Uint8ClampedArray {
  const rows = (RENDER_SIDE * OUT_H) / OUT_W;
  const top = (RENDER_SIDE - rows) / 2;
  const out = new Uint8ClampedArray(W * H * 4);
  const sx = RENDER_SIDE / W;
  const sy = rows / H;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let v = 0; v < sy; v++) for (let u = 0; u < sx; u++) sum += full[((top + y * sy + v) * RENDER_SIDE + x * sx + u) * 4 + c];
        out[(y * W + x) * 4 + c] = sum / (sx * sy);
      }
    }
  }
  return out;
}

function meanDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) s += Math.abs(a[i * 4 + c] - b[i * 4 + c]);
  return s / (W * H * 3);
}

beforeAll(async () => {
  const avatar = tinyAvatar();
  avatar.name = NAME;
  const r = await AvatarRenderer.create(avatar, false, { backend: 'cpu', maxSide: 64, cpuMaxSide: 64 });
  const f = await r.render({ timestampUs: 0, landmarks: null, poseIndex: 0, eye: null, audioLevel: 0 });
  if (f.kind !== 'rgba' || f.width !== W || f.height !== H) throw new Error('unexpected tiny render');
  tiny = f.data;
  demo = demoAtTrackSize(renderSteady(silenceFrame()));

  h = await launch();
  await h.setSettings({ idleHeadMotion: false, idleBlinks: false });
  const popup = await h.context.newPage();
  await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
  await popup.waitForSelector('#avatars li');
  await popup.setInputFiles('#import-file', { name: 'tiny.r2t', mimeType: 'application/octet-stream', buffer: Buffer.from(writeAvatar(avatar)) });
  await popup.waitForFunction((n) => [...document.querySelectorAll('#avatars li span')].some((e) => e.textContent === n), NAME);
  await popup.close();
});
afterAll(async () => {
  await h?.close();
});

async function checkRenders(page: Page, source: 'cpu-reference' | 'webgpu' = 'cpu-reference'): Promise<void> {
  const r = await openFake(page, { width: OUT_W, height: OUT_H, frameRate: 30 });
  expect(r.error).toBeUndefined();
  const i = r.tracks?.[0]?.index ?? -1;
  const s = await eventually(() => call(page, 'stats', i), (x) => x?.avatar === NAME && x?.source === source && (x?.renders ?? 0) >= 3, 60_000, 500);
  expect(s?.avatar).toBe(NAME);
  expect(s?.source).toBe(source);
  expect(s?.problem).toBeNull();
  // The mic (Chromium's fake beeps) moves the conditioning a little: take the best of a few frames.
  let toTiny = Infinity;
  let toDemo = Infinity;
  for (let k = 0; k < 5; k++) {
    // Pixel centres of the 20x upscale: bilinear scaling returns the source pixel there.
    const full = await call(page, 'grab', i, OUT_W, OUT_H);
    const got = new Array<number>(W * H * 4);
    const f = OUT_W / W;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const o = ((y * f + f / 2) * OUT_W + x * f + f / 2) * 4;
        for (let c = 0; c < 4; c++) got[(y * W + x) * 4 + c] = full[o + c];
      }
    }
    toTiny = Math.min(toTiny, meanDiff(got, tiny));
    toDemo = Math.min(toDemo, meanDiff(got, demo));
    await page.waitForTimeout(150);
  }
  console.log(`[imported-avatar] ${new URL(page.url()).pathname} (${source}): mean |diff| to the imported avatar ${toTiny.toFixed(1)}, to the demo head ${toDemo.toFixed(1)} (/255)`);
  expect(toTiny).toBeLessThan(6);
  expect(toDemo).toBeGreaterThan(2 * toTiny + 10);
  await call(page, 'stop', i);
}

describe('an avatar imported in the popup', () => {
  it('is what the camera shows in a normal page', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    await checkRenders(page);
    await page.close();
  });

  it('is what the camera shows when the WebGPU renderer draws it in the engine worker (SwiftShader here)', async () => {
    await h.setSettings({ renderer: 'auto' });
    try {
      const page = await h.context.newPage();
      await page.goto(`${h.pages.url}/basic.html`);
      await checkRenders(page, 'webgpu');
      await page.close();
    } finally {
      await h.setSettings({ renderer: 'cpu' });
    }
  });

  it('is what the camera shows in a cross-origin isolated (Zoom-class) page', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/zoom.html`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await checkRenders(page);
    await page.close();
  });
});
