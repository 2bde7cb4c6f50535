/**
 * LiveKit class: device switching by deviceId { exact } and re-acquisition on devicechange,
 * driven through the app's own code (tests/fixtures/pages/livekit.js).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launch, type Harness } from './helpers/browser.ts';
import { eventually } from './helpers/app.ts';

interface TrackView {
  label: string;
  readyState: string;
  deviceId: string;
  width: number;
  height: number;
}
interface LkState {
  devicechanges: number;
  reacquired: number;
  lastSwitch: { requested: string; got: string; matches: boolean } | null;
  track: TrackView | null;
  wantedDeviceId: string | null;
}
interface Lk {
  listCameras(): Promise<{ deviceId: string; groupId: string; label: string }[]>;
  start(w: number, h: number): Promise<{ track?: TrackView; error?: { name: string } }>;
  switchTo(label: string): Promise<{ track?: TrackView; matches?: boolean; requested?: string; error?: { name: string } }>;
  watch(ms: number): Promise<{ fps: number; width: number; height: number }>;
  stats(): { framesWritten: number; renders: number } | null;
  state(): LkState;
}

function lk<K extends keyof Lk>(page: Page, name: K, ...args: Parameters<Lk[K]>): Promise<Awaited<ReturnType<Lk[K]>>> {
  return page.evaluate(
    ([n, a]) => (window as unknown as { lk: Record<string, (...x: unknown[]) => unknown> }).lk[n](...a),
    [name as string, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<Lk[K]>>>;
}

let h: Harness;
beforeAll(async () => {
  h = await launch();
});
afterAll(async () => {
  await h?.close();
});

describe('LiveKit-class app: switch by deviceId and re-acquire on devicechange', () => {
  it('switches from the real camera to R2 Talker by exact deviceId and ends, after an off/on cycle, with a live R2 Talker track at the requested size', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/livekit.html`);

    const cams = await lk(page, 'listCameras');
    expect(cams.map((c) => c.label)).toEqual(['fake_device_0', 'R2 Talker']);

    const started = await lk(page, 'start', 640, 480);
    expect(started.error).toBeUndefined();
    expect(started.track?.label).toBe('fake_device_0');
    const realId = started.track?.deviceId;
    expect(realId).toBe(cams[0].deviceId);

    const sw = await lk(page, 'switchTo', 'R2 Talker');
    expect(sw.error).toBeUndefined();
    expect(sw.matches).toBe(true);
    expect(sw.track).toMatchObject({ label: 'R2 Talker', readyState: 'live', deviceId: cams[1].deviceId, width: 640, height: 480 });

    // The device goes away and comes back (the user toggles it in the popup): the app sees
    // devicechange events and re-acquires the camera it had chosen.
    const before = await lk(page, 'state');
    await h.setSettings({ enabled: false });
    await eventually(() => lk(page, 'listCameras'), (l) => !l.some((c) => c.label === 'R2 Talker'));
    await h.setSettings({ enabled: true });
    const after = await eventually(
      () => lk(page, 'state'),
      (s) => s.reacquired > 0 && s.track?.readyState === 'live' && s.track.label === 'R2 Talker',
      15_000,
    );
    expect(after.devicechanges).toBeGreaterThanOrEqual(before.devicechanges + 2);
    expect(after.reacquired).toBeGreaterThan(0);
    expect(after.track).toMatchObject({ label: 'R2 Talker', readyState: 'live', deviceId: cams[1].deviceId, width: 640, height: 480 });
    // The id is stable across the off/on cycle, so exact-deviceId re-acquisition works.
    expect((await lk(page, 'listCameras')).find((c) => c.label === 'R2 Talker')?.deviceId).toBe(cams[1].deviceId);

    const stats = await eventually(() => lk(page, 'stats'), (s) => (s?.framesWritten ?? 0) > 10, 15_000);
    expect(stats?.framesWritten).toBeGreaterThan(10);
    const watched = await lk(page, 'watch', 1500);
    expect([watched.width, watched.height]).toEqual([640, 480]);
    // The advertised 30 fps (+-10%), whatever the render rate.
    expect(watched.fps).toBeGreaterThan(27);
    expect(watched.fps).toBeLessThan(33);
    await page.close();
  });
});
