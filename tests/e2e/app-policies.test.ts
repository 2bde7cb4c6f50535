import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Harness } from './helpers/browser.ts';
import { call, eventually, openFake } from './helpers/app.ts';

let h: Harness;
beforeAll(async () => {
  h = await launch();
});
afterAll(async () => {
  await h?.close();
});

describe('meeting pages with strict policies', () => {
  it('Meet class (strict CSP, worker-src self, Trusted Types): the camera delivers engine frames and the mic is tapped', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/meet.html`);
    // Listen after load: the page's own Trusted Types self-check logs one violation on purpose.
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|TrustedHTML|TrustedScript|Trusted Type/i.test(m.text())) violations.push(m.text());
    });
    expect(await page.evaluate(() => (window as unknown as { policyCheck: { trustedTypesEnforced: boolean } }).policyCheck.trustedTypesEnforced)).toBe(true);
    const r = await openFake(page, { width: 1280, height: 720, frameRate: 30 }, true);
    expect(r.error).toBeUndefined();
    const v = r.tracks?.find((t) => t.kind === 'video');
    expect(v?.settings).toMatchObject({ width: 1280, height: 720 });
    const s = await eventually(() => call(page, 'stats', v?.index ?? -1), (x) => (x?.framesWritten ?? 0) > 10 && (x?.renderFps ?? 0) > 0 && (x?.audioSeconds ?? 0) > 0.5, 15_000);
    expect(s?.framesWritten).toBeGreaterThan(10);
    // The mic reached the engine through the AudioWorklet loaded from the extension's URL.
    expect(s?.audioSeconds).toBeGreaterThan(0.5);
    expect(s?.problem).toBeNull();
    expect(violations).toEqual([]);
  });

  it('Zoom class (COOP/COEP, cross-origin isolated): the engine iframe loads and frames arrive', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/zoom.html`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const r = await openFake(page, { width: 640, height: 480 });
    expect(r.error).toBeUndefined();
    const i = r.tracks?.[0]?.index ?? -1;
    const s = await eventually(() => call(page, 'stats', i), (x) => (x?.framesWritten ?? 0) > 10 && (x?.renderFps ?? 0) > 0, 15_000);
    expect(s?.framesWritten).toBeGreaterThan(10);
    const watched = await call(page, 'watch', i, 1000);
    expect([watched.width, watched.height]).toEqual([640, 480]);
  });
});
