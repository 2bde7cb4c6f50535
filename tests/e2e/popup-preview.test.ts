/**
 * The popup's live preview: the chosen avatar idles in it as soon as the popup opens; the user
 * clicks "Talk with my microphone" and sees it talk with their voice (espeak-ng speech as the
 * fake mic) before joining a call; a refused mic is explained and the avatar idles; stopping
 * the microphone leaves the avatar idling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/app.ts';
import { launch, type Harness } from './helpers/browser.ts';
import { RENDER_SIDE, makeSpeechWav, mouthBox, renderSteady, silenceFrame, type Box } from './helpers/reference.ts';

const SETTINGS = { renderer: 'cpu', renderMaxSide: RENDER_SIDE, idleHeadMotion: false, idleBlinks: false } as const;

let dir: string;
let wav: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-preview-'));
  wav = makeSpeechWav(dir);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openPopup(h: Harness): Promise<Page> {
  const popup = await h.context.newPage();
  await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
  await popup.waitForSelector('#engine-summary:not(:empty)');
  return popup;
}

/** The preview canvas's RGBA pixels, box-averaged down to RENDER_SIDE x RENDER_SIDE. */
function grab(popup: Page): Promise<number[]> {
  return popup.evaluate((side) => {
    const c = document.getElementById('preview-canvas') as HTMLCanvasElement;
    const small = new OffscreenCanvas(side, side);
    const ctx = small.getContext('2d')!;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(c, 0, 0, side, side);
    return Array.from(ctx.getImageData(0, 0, side, side).data);
  }, RENDER_SIDE);
}

/** Mean luma of `box` (fractions of the square canvas), sampled every `every` ms for `ms`. */
function mouthLuma(popup: Page, box: Box, ms: number, every: number): Promise<number[]> {
  return popup.evaluate(
    async ([b, total, step]) => {
      const c = document.getElementById('preview-canvas') as HTMLCanvasElement;
      const ctx = c.getContext('2d')!;
      const x = Math.floor(b.x0 * c.width), y = Math.floor(b.y0 * c.height);
      const w = Math.max(1, Math.ceil(b.x1 * c.width) - x), hh = Math.max(1, Math.ceil(b.y1 * c.height) - y);
      const out: number[] = [];
      for (let t = 0; t < total; t += step) {
        const d = ctx.getImageData(x, y, w, hh).data;
        let s = 0;
        for (let i = 0; i < d.length; i += 4) s += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        out.push(s / (d.length / 4));
        await new Promise((r) => setTimeout(r, step));
      }
      return out;
    },
    [box, ms, every] as const,
  );
}

const frames = (popup: Page) => popup.$eval('#preview-canvas', (c) => Number((c as HTMLCanvasElement).dataset.frames ?? '0'));
const sessions = (popup: Page) => popup.$eval('#preview-canvas', (c) => (c as HTMLCanvasElement).dataset.engineSessions ?? '');

describe('the popup preview', () => {
  it('idles the demo head at once, talks with the microphone on request, and idles again when it is stopped', async () => {
    const h = await launch({ fakeAudioWav: wav });
    try {
      await h.setSettings(SETTINGS);
      const popup = await openPopup(h);
      // An opaque canvas starts black: what the popup would show without the idle preview.
      const blank = Array.from({ length: RENDER_SIDE * RENDER_SIDE * 4 }, (_, i) => (i % 4 === 3 ? 255 : 0));
      // Frames arrive before any click: the idle preview needs no microphone.
      expect(await eventually(() => frames(popup), (n) => n >= 3, 30_000)).toBeGreaterThanOrEqual(3);
      expect(await eventually(() => popup.textContent('#preview-status'), (t) => /idle\.$/.test(t ?? ''), 5000)).toMatch(/^Preview: .+, idle\.$/);
      await popup.click('#preview-toggle');
      expect(await eventually(() => popup.textContent('#preview-toggle'), (t) => t === 'Stop microphone', 10_000)).toBe('Stop microphone');

      // The demo head, not a blank or a test card: far from the blank canvas, close to the
      // renderer's own output for the same avatar, skin-coloured in the centre.
      const sil = silenceFrame();
      const closed = renderSteady(sil);
      let best = Infinity;
      let shown: number[] = [];
      for (let k = 0; k < 10; k++) {
        const got = await grab(popup);
        let sum = 0;
        for (let i = 0; i < got.length; i++) if (i % 4 !== 3) sum += Math.abs(got[i] - closed[i]);
        const d = sum / (RENDER_SIDE * RENDER_SIDE * 3);
        if (d < best) [best, shown] = [d, got];
        await popup.waitForTimeout(200);
      }
      let fromBlank = 0;
      for (let i = 0; i < shown.length; i++) if (i % 4 !== 3) fromBlank += Math.abs(shown[i] - blank[i]);
      fromBlank /= RENDER_SIDE * RENDER_SIDE * 3;
      const c = ((RENDER_SIDE / 2) * RENDER_SIDE + RENDER_SIDE / 2) * 4;
      const centre = shown.slice(c, c + 3);
      console.log(`[popup-preview] mean |diff| to the renderer ${best.toFixed(2)}, to the blank canvas ${fromBlank.toFixed(1)}; centre RGB ${centre.join(',')}`);
      expect(fromBlank).toBeGreaterThan(30);
      expect(best).toBeLessThan(14);
      expect(centre[0]).toBeGreaterThan(120);
      expect(centre[0]).toBeGreaterThan(centre[1]);
      expect(centre[1]).toBeGreaterThan(centre[2]);

      // The mouth moves while the speech plays (the fake mic loops speech, then 4 s of silence).
      const mouth = mouthBox();
      const luma = await mouthLuma(popup, mouth, 12_000, 50);
      const range = Math.max(...luma) - Math.min(...luma);
      console.log(`[popup-preview] mouth luma range over 12 s: ${range.toFixed(1)}; status: ${await popup.textContent("#preview-status")}; problem: ${await popup.textContent("#preview-problem")}`);
      expect(range).toBeGreaterThan(15);
      expect(await popup.textContent('#preview-status')).toMatch(/^Preview: .+ driven by your microphone\.$/);
      expect(await popup.textContent('#preview-problem')).toBe('');
      // The preview is not a page's camera: the camera status is untouched.
      expect(await popup.textContent('#engine-summary')).toBe('The camera has not been used yet.');

      await popup.click('#preview-toggle');
      expect(await popup.textContent('#preview-toggle')).toBe('Talk with my microphone');
      expect(await eventually(() => popup.textContent('#preview-status'), (t) => /idle\.$/.test(t ?? ''), 5000)).toMatch(/^Preview: .+, idle\.$/);
      // The session stays open: the avatar keeps idling in the popup.
      expect(await sessions(popup)).toBe('1');
      const at = await frames(popup);
      expect(await eventually(() => frames(popup), (n) => n > at, 10_000)).toBeGreaterThan(at);
    } finally {
      await h.close();
    }
  });

  it('explains a refused microphone and idles the avatar', async () => {
    const h = await launch({ fakeAudioWav: wav, dropArgs: ['--use-fake-ui-for-media-stream'], extraArgs: ['--use-fake-ui-for-media-stream=deny'] });
    try {
      await h.setSettings(SETTINGS);
      const popup = await openPopup(h);
      await popup.click('#preview-toggle');
      const problem = await eventually(() => popup.textContent('#preview-problem'), (t) => (t ?? '') !== '', 15_000);
      expect(problem).toMatch(/^Microphone not allowed.*: the preview idles\./);
      expect(await eventually(() => frames(popup), (n) => n >= 2, 30_000)).toBeGreaterThanOrEqual(2);
      expect(await eventually(() => popup.textContent('#preview-status'), (t) => /no microphone/.test(t ?? ''), 5000)).toMatch(/^Preview: .+ no microphone\.$/);
    } finally {
      await h.close();
    }
  });
});
