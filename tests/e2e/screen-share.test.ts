/**
 * Screen sharing keeps working untouched: getDisplayMedia and Chrome's legacy desktop-capture
 * getUserMedia ({ mandatory: { chromeMediaSource: 'desktop' } }) behave exactly as in a
 * browser without the extension. getDisplayMedia is answered headless by
 * --use-fake-ui-for-media-stream (already a base switch), which picks the whole screen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launch, type Harness } from './helpers/browser.ts';
import { launchWithoutExtension, type PlainHarness } from './helpers/plain-browser.ts';
import { call } from './helpers/app.ts';

interface Outcome {
  ok: boolean;
  error?: string;
  label?: string;
  ctor?: string;
  hasR2Stats?: boolean;
  settings?: MediaTrackSettings & { displaySurface?: string };
  frames?: number;
}

interface Probe {
  display: Outcome;
  legacyPromise: Outcome;
  legacyCallback: Outcome;
}

/** Runs in the page: each capture API once, describing what came back (no eval: a function body). */
function probe(page: Page): Promise<Probe> {
  return page.evaluate(async () => {
    const describe = async (s: MediaStream): Promise<Outcome> => {
      const t = s.getVideoTracks()[0];
      const v = document.createElement('video');
      v.muted = true;
      v.srcObject = new MediaStream([t]);
      await v.play();
      let frames = 0;
      const tick = (): void => {
        frames++;
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
      await new Promise((r) => setTimeout(r, 700));
      const out: Outcome = {
        ok: true,
        label: t.label,
        ctor: t.constructor.name,
        hasR2Stats: typeof (t as unknown as { getR2TalkerStats?: unknown }).getR2TalkerStats === 'function',
        settings: t.getSettings(),
        frames,
      };
      for (const x of s.getTracks()) x.stop();
      v.srcObject = null;
      return out;
    };
    const fail = (e: unknown): Outcome => ({ ok: false, error: `${(e as Error).name}: ${(e as Error).message}` });
    const legacy = { video: { mandatory: { chromeMediaSource: 'desktop' } } } as unknown as MediaStreamConstraints;
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true }).then(describe, fail);
    const legacyPromise = await navigator.mediaDevices.getUserMedia(legacy).then(describe, fail);
    const legacyCallback = await new Promise<Outcome>((resolve) => {
      const nav = navigator as unknown as { webkitGetUserMedia(c: MediaStreamConstraints, ok: (s: MediaStream) => void, err: (e: unknown) => void): void };
      nav.webkitGetUserMedia(legacy, (s) => void describe(s).then(resolve), (e) => resolve(fail(e)));
    });
    return { display, legacyPromise, legacyCallback };
  });
}

let h: Harness;
let plain: PlainHarness;
let withExt: Probe;
let without: Probe;
let fakeId: string | null;

beforeAll(async () => {
  plain = await launchWithoutExtension();
  const p = await plain.browser.newPage();
  await p.goto(`${plain.pages.url}/basic.html`);
  without = await probe(p);
  await plain.close();

  h = await launch();
  const page = await h.context.newPage();
  await page.goto(`${h.pages.url}/basic.html`);
  fakeId = await call(page, 'fakeDeviceId');
  withExt = await probe(page);
});
afterAll(async () => {
  await h?.close();
});

describe('screen sharing with the extension installed', () => {
  it('getDisplayMedia returns the real screen capture, not the R2 Talker camera', () => {
    expect(fakeId).not.toBeNull();
    const d = withExt.display;
    expect(d.error).toBeUndefined();
    expect(d.ok).toBe(true);
    expect(d.label).not.toBe('R2 Talker');
    expect(d.ctor).toBe('MediaStreamTrack');
    expect(d.hasR2Stats).toBe(false);
    expect(d.settings?.displaySurface).toBe('monitor');
    expect(d.settings?.deviceId).not.toBe(fakeId);
    expect(d.frames).toBeGreaterThan(0);
    // Exactly what the browser without the extension hands out.
    expect(d.label).toBe(without.display.label);
    expect(d.settings).toEqual(without.display.settings);
  });

  it('legacy desktop capture (chromeMediaSource: desktop) is not intercepted by either getUserMedia API', () => {
    // Without a chooser-provided chromeMediaSourceId Chromium refuses this request; with the
    // extension it must be refused identically (or succeed identically), never become our camera.
    for (const key of ['legacyPromise', 'legacyCallback'] as const) {
      const a = withExt[key];
      const b = without[key];
      expect(a.ok, key).toBe(b.ok);
      expect(a.error, key).toBe(b.error);
      expect(a.label, key).toBe(b.label);
      expect(a.label, key).not.toBe('R2 Talker');
      expect(a.hasR2Stats ?? false, key).toBe(false);
    }
  });
});
