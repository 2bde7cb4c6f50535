/**
 * Failure behaviour on a machine without a WebGPU adapter (Chromium without
 * --enable-unsafe-webgpu on Linux: navigator.gpu exists, requestAdapter() resolves null): whatever goes
 * wrong, the page gets a working track or a standard DOMException promptly, and the popup
 * says what happened. (A lost GPU device needs WebGPU: gpu-device-loss.test.ts.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { E2E_RENDER_SETTINGS, launch, type Harness } from './helpers/browser.ts';
import { call, eventually, openFake, type CameraStats } from './helpers/app.ts';
import { openPopup, popupStatus, waitForProblem } from './helpers/popup.ts';

let h: Harness;
let popup: Page;
beforeAll(async () => {
  h = await launch({ dropArgs: ['--enable-unsafe-webgpu', '--use-vulkan=swiftshader'] });
  popup = await openPopup(h);
});
afterAll(async () => {
  await h?.close();
});
afterEach(async () => {
  await h.setSettings({ ...E2E_RENDER_SETTINGS, avatarId: null });
});

async function page(name = 'basic.html'): Promise<Page> {
  const p = await h.context.newPage();
  await p.goto(`${h.pages.url}/${name}`);
  return p;
}

/** Opens the fake camera alone and waits for engine frames; returns its index and stats. */
async function liveCamera(p: Page): Promise<{ index: number; stats: CameraStats | null }> {
  const r = await openFake(p, { width: 320, height: 240 });
  expect(r.error).toBeUndefined();
  const index = r.tracks?.[0]?.index ?? -1;
  const stats = await eventually(() => call(p, 'stats', index), (s) => (s?.framesWritten ?? 0) >= 3 && s?.problem !== undefined && s.source !== 'none', 30_000);
  expect(stats?.framesWritten).toBeGreaterThanOrEqual(3);
  return { index, stats };
}

/** Polls the stats until `check` passes, so a slow engine start is not mistaken for a failure. */
function statsUntil(p: Page, i: number, check: (s: CameraStats | null) => boolean): Promise<CameraStats | null> {
  return eventually(() => call(p, 'stats', i), check, 20_000);
}

describe('failures the page and the popup survive', () => {
  it('without a WebGPU adapter the avatar renders on the CPU and the popup says why', async () => {
    await h.setSettings({ renderer: 'auto', renderMaxSide: 64 });
    const p = await page();
    const adapter = await p.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<object | null> } }).gpu;
      return gpu ? (await gpu.requestAdapter()) !== null : false;
    });
    expect(adapter).toBe(false);
    const { index } = await liveCamera(p);
    const s = await statsUntil(p, index, (x) => x?.source === 'cpu-reference' && (x?.renders ?? 0) > 2);
    expect(s?.source).toBe('cpu-reference');
    expect(s?.problem).toBeNull();
    const shown = await waitForProblem(popup, /^No WebGPU \(.+\): rendering on the CPU/);
    expect(shown.summary).toMatch(/^Live: .+ on CPU \(no GPU\)/);
    expect(shown.problems.some((x) => /^No WebGPU \(.+\): rendering on the CPU/.test(x))).toBe(true);
    await call(p, 'stop', index);
    await p.close();
  });

  it('a chosen avatar that is no longer stored: the built-in avatar renders and the popup names the problem', async () => {
    await h.setSettings({ avatarId: 'no-such-avatar' });
    const p = await page();
    const { index } = await liveCamera(p);
    const s = await statsUntil(p, index, (x) => /no longer stored/.test(x?.problem ?? ''));
    expect(s?.problem).toMatch(/The chosen avatar is no longer stored; showing the built-in avatar\./);
    const before = s?.renders ?? 0;
    expect((await statsUntil(p, index, (x) => (x?.renders ?? 0) > before + 2))?.renders).toBeGreaterThan(before + 2);
    expect((await waitForProblem(popup, /no longer stored/)).problems.join(' ')).toMatch(/no longer stored/);
    await call(p, 'stop', index);
    await p.close();
  });

  it('a corrupt stored avatar: the built-in avatar renders and the popup says the file could not be read', async () => {
    // Written straight into the store (the popup's import would have refused it): a file
    // damaged on disk after import.
    const id = await popup.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('r2talker', 1);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction(['avatar-meta', 'avatar-data'], 'readwrite');
      const key = 'corrupt-avatar';
      tx.objectStore('avatar-meta').put({ id: key, name: 'Damaged', bytes: 4096, addedAt: Date.now() });
      tx.objectStore('avatar-data').put(new Blob([new Uint8Array(4096).fill(7)]), key);
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
      return key;
    });
    await h.setSettings({ avatarId: id });
    const p = await page();
    const { index } = await liveCamera(p);
    const s = await statsUntil(p, index, (x) => /could not be read/.test(x?.problem ?? ''));
    expect(s?.problem).toMatch(/^The chosen avatar could not be read \(.+\); showing the built-in avatar\./);
    expect((await waitForProblem(popup, /could not be read/)).problems.join(' ')).toMatch(/could not be read/);
    await call(p, 'stop', index);
    await p.close();
  });

  it('a refused microphone: camera+mic rejects promptly with NotAllowedError, the camera alone works and the popup says there is no audio', async () => {
    const p = await page('no-mic.html');
    const t0 = Date.now();
    const denied = await openFake(p, { width: 320, height: 240 }, true);
    expect(denied.error?.name).toBe('NotAllowedError');
    expect(Date.now() - t0).toBeLessThan(5000);
    const { index } = await liveCamera(p);
    const shown = await waitForProblem(popup, /No microphone audio has reached the avatar/);
    expect(shown.problems).toContain('No microphone audio has reached the avatar (not allowed or not requested by the page): it idles.');
    // The refused request left no session behind: one camera track runs.
    expect(shown.summary).toMatch(/, 1 camera track\./);
    await call(p, 'stop', index);
    await p.close();
  });

  it('a microphone that ends mid-call: the camera keeps delivering new renders and the popup says the audio stopped', async () => {
    const p = await page();
    const r = await openFake(p, { width: 320, height: 240 }, true);
    expect(r.error).toBeUndefined();
    const audio = r.tracks?.find((t) => t.kind === 'audio')?.index ?? -1;
    const video = r.tracks?.find((t) => t.kind === 'video')?.index ?? -1;
    const heard = await statsUntil(p, video, (x) => (x?.audioSeconds ?? 0) > 0.5);
    expect(heard?.audioSeconds).toBeGreaterThan(0.5);
    expect((await call(p, 'stop', audio)).readyState).toBe('ended');
    const shown = await waitForProblem(popup, /No microphone audio for \d+ s/);
    expect(shown.problems.some((x) => /No microphone audio for \d+ s \(the microphone ended or was stopped\): the avatar idles\./.test(x))).toBe(true);
    const a = await call(p, 'stats', video);
    const b = await statsUntil(p, video, (x) => (x?.framesWritten ?? 0) >= (a?.framesWritten ?? 0) + 3);
    expect(b?.framesWritten).toBeGreaterThanOrEqual((a?.framesWritten ?? 0) + 3);
    expect((await call(p, 'info', video)).readyState).toBe('live');
    await call(p, 'stop', video);
    await p.close();
  });

  it('after the last track stops the popup says no page uses the camera', async () => {
    const s = await eventually(() => popupStatus(popup), (x) => x.summary === 'No page is using the camera.', 15_000);
    expect(s.summary).toBe('No page is using the camera.');
  });
});
