/**
 * The browser SDK on its own (no call): createTalkingHead in a real app page drives the
 * extension's engine and gives tracks that show the avatar; its errors are typed; the
 * canvas.captureStream fallback works where MediaStreamTrackGenerator is missing; stop()
 * releases the tracks, the microphone and the engine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { RENDER_SIDE, renderSteady, silenceFrame } from './helpers/reference.ts';
import { launchSdkBrowser, startSdkPageServer, type SdkPageServer } from './helpers/sdk-page.ts';
import { downscale, psnr } from './helpers/sdk-pixels.ts';

let dir: string;
let browser: Browser;
let app: SdkPageServer;
let noMic: SdkPageServer;

/** The head every test makes: built-in demo head, CPU reference at 64 px, no idle motion (comparable with the reference). */
const BASE = { avatar: null, microphone: true, size: { width: 256, height: 256 }, frameRate: 25, engineUrl: '/engine/', backend: 'cpu', renderMaxSide: RENDER_SIDE, idleBlinks: false, idleHeadMotion: false };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-sdk-'));
  const silence = path.join(dir, 'silence.wav');
  execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', silence, 'trim', '0', '3']);
  [app, noMic] = await Promise.all([startSdkPageServer(), startSdkPageServer({ 'Permissions-Policy': 'microphone=()' })]);
  app.put('broken.r2t', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]));
  app.put('tiny.r2t', writeAvatar(tinyAvatar()));
  browser = await launchSdkBrowser(silence);
}, 120_000);

/** Uncaught errors in the app page (a rejected write after stop, ...) fail the test that caused them. */
const pageErrors: string[] = [];
afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await noMic?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(server: SdkPageServer): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  return page;
}

/** createTalkingHead in the page with BASE + overrides; resolves to the error's code/field or 'ok'. */
function tryCreate(page: Page, overrides: Record<string, unknown>): Promise<{ code: string; field: string | null; message: string } | 'ok'> {
  return page.evaluate(async (o) => {
    const w = window as unknown as { t: { sdk: typeof import('../../sdk/index.ts') }; head?: unknown };
    try {
      (w as Record<string, unknown>).head = await w.t.sdk.createTalkingHead(o as never);
      return 'ok' as const;
    } catch (e) {
      const err = e as { code?: string; field?: string | null; message: string; name: string };
      return { code: err.name === 'TalkingHeadError' ? String(err.code) : `not typed: ${err.name}`, field: err.field ?? null, message: err.message };
    }
  }, { ...BASE, ...overrides });
}

async function frameVsReference(page: Page): Promise<{ db: number; width: number; height: number }> {
  const g = await page.evaluate(() => {
    const w = window as unknown as { t: { grab(t: MediaStreamTrack): Promise<{ width: number; height: number; b64: string }> }; head: { videoTrack: MediaStreamTrack } };
    return w.t.grab(w.head.videoTrack);
  });
  const rgba = new Uint8Array(Buffer.from(g.b64, 'base64'));
  const small = downscale(rgba, g.width, g.height, RENDER_SIDE);
  return { db: psnr(small, renderSteady(silenceFrame())), width: g.width, height: g.height };
}

describe('createTalkingHead in an app page', () => {
  it('refuses bad options, a broken avatar and a cross-origin engine with typed errors naming the field', async () => {
    const page = await open(app);
    expect(await tryCreate(page, { size: { width: 255, height: 256 } })).toMatchObject({ code: 'INVALID_OPTION', field: 'size.width' });
    expect(await tryCreate(page, { microphone: undefined })).toMatchObject({ code: 'INVALID_OPTION', field: 'microphone|audioTrack' });
    expect(await tryCreate(page, { frameRate: 0 })).toMatchObject({ code: 'INVALID_OPTION', field: 'frameRate' });
    expect(await tryCreate(page, { engineUrl: 'http://example.invalid/engine/' })).toMatchObject({ code: 'INVALID_OPTION', field: 'engineUrl' });
    const broken = await tryCreate(page, { avatar: '/files/broken.r2t' });
    expect(broken).toMatchObject({ code: 'AVATAR_INVALID', field: 'avatar' });
    expect(await tryCreate(page, { avatar: '/files/missing.r2t' })).toMatchObject({ code: 'AVATAR_INVALID', message: expect.stringContaining('HTTP 404') });
    // Nothing was left running by the failed attempts: no microphone was opened.
    expect(await page.evaluate(() => (window as unknown as { t: { opened: MediaStreamTrack[] } }).t.opened.length)).toBe(0);
    await page.close();
  });

  it('reports a refused microphone as MICROPHONE_DENIED', async () => {
    const page = await open(noMic);
    expect(await tryCreate(page, {})).toMatchObject({ code: 'MICROPHONE_DENIED', field: 'microphone' });
    await page.close();
  });

  it('gives a video track showing the avatar (PSNR >= 25 dB against the renderer) and a live delayed voice', async () => {
    const page = await open(app);
    expect(await tryCreate(page, {})).toBe('ok');
    const state = await page.evaluate(() => {
      const w = window as unknown as { t: { trackState(t: MediaStreamTrack): unknown }; head: { videoTrack: MediaStreamTrack; audioTrack: MediaStreamTrack } };
      return { video: w.t.trackState(w.head.videoTrack), audio: w.t.trackState(w.head.audioTrack) };
    });
    expect(state).toEqual({ video: { readyState: 'live', kind: 'video' }, audio: { readyState: 'live', kind: 'audio' } });
    // The engine's first renders may still carry the start-up state: take the best of a few.
    let best = { db: 0, width: 0, height: 0 };
    for (let i = 0; i < 6 && best.db < 30; i++) {
      await page.waitForTimeout(500);
      const r = await frameVsReference(page);
      if (r.db > best.db) best = r;
    }
    console.log(`[sdk-browser] generator sink: ${best.width}x${best.height}, PSNR ${best.db.toFixed(1)} dB against the CPU reference`);
    expect(best.width).toBe(256);
    expect(best.height).toBe(256);
    expect(best.db).toBeGreaterThanOrEqual(25);
    const stats = await page.evaluate(() => (window as unknown as { head: { stats(): unknown } }).head.stats());
    expect(stats).toMatchObject({ videoSink: 'generator', source: 'cpu-reference', size: { width: 256, height: 256 } });
    expect((stats as { framesWritten: number }).framesWritten).toBeGreaterThan(0);
    expect((stats as { audioDelayMs: number }).audioDelayMs).toBeGreaterThan(0);

    // setOutputSize: same track, new size.
    await page.evaluate(() => (window as unknown as { head: { setOutputSize(s: { width: number; height: number }): void } }).head.setOutputSize({ width: 320, height: 240 }));
    let size = { width: 0, height: 0 };
    for (let i = 0; i < 20 && size.width !== 320; i++) {
      await page.waitForTimeout(250);
      size = await frameVsReference(page);
    }
    expect(size).toMatchObject({ width: 320, height: 240 });

    // stop(): both tracks end, the microphone the head opened is released, the engine is gone.
    const after = await page.evaluate(async () => {
      const w = window as unknown as { t: { opened: MediaStreamTrack[] }; head: { stop(): Promise<void>; videoTrack: MediaStreamTrack; audioTrack: MediaStreamTrack; engineStatus(): Promise<unknown> } };
      await w.head.stop();
      await w.head.stop(); // idempotent
      let engine = 'answered';
      try {
        await w.head.engineStatus();
      } catch (e) {
        engine = (e as { code: string }).code;
      }
      return { video: w.head.videoTrack.readyState, audio: w.head.audioTrack.readyState, mics: w.t.opened.map((t) => t.readyState), engine };
    });
    expect(after).toEqual({ video: 'ended', audio: 'ended', mics: ['ended'], engine: 'STOPPED' });
    await page.close();
  });

  it('falls back to canvas.captureStream without MediaStreamTrackGenerator, and says so when the generator is demanded', async () => {
    const page = await open(app);
    await page.evaluate(() => {
      delete (window as unknown as Record<string, unknown>).MediaStreamTrackGenerator;
    });
    expect(await tryCreate(page, { videoSink: 'generator' })).toMatchObject({ code: 'UNSUPPORTED_BROWSER', field: 'MediaStreamTrackGenerator' });
    expect(await tryCreate(page, {})).toBe('ok');
    const sink = await page.evaluate(() => (window as unknown as { head: { stats(): { videoSink: string } } }).head.stats().videoSink);
    expect(sink).toBe('canvas');
    let best = 0;
    for (let i = 0; i < 6 && best < 30; i++) {
      await page.waitForTimeout(500);
      best = Math.max(best, (await frameVsReference(page)).db);
    }
    console.log(`[sdk-browser] canvas sink: PSNR ${best.toFixed(1)} dB`);
    expect(best).toBeGreaterThanOrEqual(25);
    await page.evaluate(() => (window as unknown as { head: { stop(): Promise<void> } }).head.stop());
    await page.close();
  });

  it('switches avatar in place: same track, a different face', async () => {
    const page = await open(app);
    expect(await tryCreate(page, {})).toBe('ok');
    let before = 0;
    for (let i = 0; i < 6 && before < 25; i++) {
      await page.waitForTimeout(500);
      before = Math.max(before, (await frameVsReference(page)).db);
    }
    expect(before).toBeGreaterThanOrEqual(25);
    const trackId = await page.evaluate(async () => {
      const w = window as unknown as { head: { setAvatar(a: string): Promise<void>; videoTrack: MediaStreamTrack } };
      const id = w.head.videoTrack.id;
      await w.head.setAvatar('/files/tiny.r2t');
      return id;
    });
    let after = Infinity;
    for (let i = 0; i < 10 && after > 15; i++) {
      await page.waitForTimeout(500);
      after = (await frameVsReference(page)).db;
    }
    console.log(`[sdk-browser] avatar switch: PSNR vs the demo head ${before.toFixed(1)} dB before, ${after.toFixed(1)} dB after`);
    expect(after).toBeLessThan(15);
    const same = await page.evaluate(() => (window as unknown as { head: { videoTrack: MediaStreamTrack } }).head.videoTrack.id);
    expect(same).toBe(trackId);
    // A broken file is refused and the current face stays.
    const refused = await page.evaluate(async () => {
      try {
        await (window as unknown as { head: { setAvatar(a: string): Promise<void> } }).head.setAvatar('/files/broken.r2t');
        return 'accepted';
      } catch (e) {
        return (e as { code: string }).code;
      }
    });
    expect(refused).toBe('AVATAR_INVALID');
    await page.evaluate(() => (window as unknown as { head: { stop(): Promise<void> } }).head.stop());
    await page.close();
  });
});
