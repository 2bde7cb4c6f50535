import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Harness } from './helpers/browser.ts';
import { call, eventually } from './helpers/app.ts';

let h: Harness;
beforeAll(async () => {
  h = await launch();
});
afterAll(async () => {
  await h?.close();
});

describe('the fake camera as enumerateDevices lists it', () => {
  it('is listed next to the real camera as an InputDeviceInfo with a stable id, group and camera capabilities', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    const devices = await call(page, 'devices');
    const cams = devices.filter((d) => d.kind === 'videoinput');
    expect(cams.map((d) => d.label)).toEqual(['fake_device_0', 'R2 Talker']);
    const fake = cams[1];
    expect(fake.isInputDeviceInfo).toBe(true);
    expect(fake.deviceId).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.groupId).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.capabilities?.width).toEqual({ min: 1, max: 1920 });
    expect(fake.capabilities?.deviceId).toBe(fake.deviceId);

    await page.reload();
    const again = (await call(page, 'devices')).find((d) => d.label === 'R2 Talker');
    expect(again?.deviceId).toBe(fake.deviceId);
    expect(again?.groupId).toBe(fake.groupId);
    await page.close();
  });

  it('disappears when turned off and reappears with a devicechange event when turned on', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    expect(await call(page, 'fakeDeviceId')).not.toBeNull();
    await h.setSettings({ enabled: false });
    const gone = await eventually(() => call(page, 'fakeDeviceId'), (id) => id === null);
    expect(gone).toBeNull();
    const before = await page.evaluate(() => (window as unknown as { r2t: { events: { devicechange: number } } }).r2t.events.devicechange);
    await h.setSettings({ enabled: true });
    const count = await eventually(
      () => page.evaluate(() => (window as unknown as { r2t: { events: { devicechange: number } } }).r2t.events.devicechange),
      (n) => n > before,
    );
    expect(count).toBeGreaterThan(before);
    expect(await call(page, 'fakeDeviceId')).not.toBeNull();
    await page.close();
  });

  it('while turned off, a request for its deviceId fails like a missing camera', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    const id = await call(page, 'fakeDeviceId');
    await h.setSettings({ enabled: false });
    await eventually(() => call(page, 'fakeDeviceId'), (v) => v === null);
    const r = await call(page, 'open', { video: { deviceId: { exact: id ?? '' } } });
    expect(r.error?.name).toBe('OverconstrainedError');
    await h.setSettings({ enabled: true });
    await page.close();
  });

  it('leaves the real camera and the real mic untouched', async () => {
    const page = await h.context.newPage();
    await page.goto(`${h.pages.url}/basic.html`);
    const r = await call(page, 'open', { video: true, audio: true });
    expect(r.error).toBeUndefined();
    const labels = r.tracks?.map((t) => `${t.kind}:${t.label}`);
    expect(labels).toContain('video:fake_device_0');
    expect(labels?.some((l) => l.startsWith('audio:') && l.includes('Fake'))).toBe(true);
    await page.close();
  });
});
