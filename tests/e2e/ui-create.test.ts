/**
 * The create page with Chromium's fake camera and microphone: the up-front checks (WebGPU,
 * storage quota, each failing with its own message), a take recorded with MediaRecorder into
 * the origin-private file system with live guidance and a timer, refused when shorter than
 * 2 minutes, an imported video checked the same way, and — since in-browser preparation is
 * not wired in this build — the command-line route for preparing shown instead, honestly.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebmEncoder } from '../../cli/video/webm-encoder.ts';
import { eventually } from './helpers/app.ts';
import { launch, type Harness } from './helpers/browser.ts';
import { shootBothSchemes } from './helpers/screenshots.ts';

let h: Harness;
beforeAll(async () => {
  h = await launch();
});
afterAll(async () => {
  await h?.close();
});

async function openCreate(init?: () => void): Promise<Page> {
  const page = await h.context.newPage();
  await page.setViewportSize({ width: 900, height: 1000 });
  if (init) await page.addInitScript(init);
  await page.goto(`chrome-extension://${h.extensionId}/create.html`);
  await page.waitForFunction(() => !/Checking/.test((document.getElementById('storage-check')?.textContent ?? '') + (document.getElementById('webgpu-check')?.textContent ?? '')));
  return page;
}

/** Files in the extension's origin-private file system under recordings/: name -> bytes. */
const storedTakes = (page: Page) =>
  page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('recordings', { create: true });
    const out: Record<string, number> = {};
    for await (const [name, handle] of (dir as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }).entries()) out[name] = (await handle.getFile()).size;
    return out;
  });

/** A WebM of `seconds` seconds (16x16 at 1 fps, so it is quick to make) written by our encoder. */
async function makeVideo(seconds: number): Promise<Buffer> {
  const enc = await WebmEncoder.open({ width: 16, height: 16, fps: 1, codec: 'vp8' });
  try {
    const frame = new Uint8Array(16 * 16 * 4).fill(128);
    for (let i = 0; i < seconds; i++) await enc.addFrame(frame);
    return Buffer.from((await enc.finish()).bytes);
  } finally {
    await enc.close();
  }
}

describe('the create page with the camera refused', () => {
  it('says what to do', async () => {
    const denied = await launch({ dropArgs: ['--use-fake-ui-for-media-stream'], extraArgs: ['--use-fake-ui-for-media-stream=deny'] });
    try {
      const page = await denied.context.newPage();
      await page.goto(`chrome-extension://${denied.extensionId}/create.html`);
      await page.click('#camera-start');
      expect(await eventually(() => page.textContent('#record-error'), (t) => (t ?? '') !== '', 15_000)).toBe(
        'Camera or microphone not allowed: allow both for R2 Talker (the camera icon in the address bar) and try again.',
      );
      expect(await page.isDisabled('#record-start')).toBe(true);
    } finally {
      await denied.close();
    }
  });
});

describe('the create page', () => {
  it('checks WebGPU and storage up front and says both are fine here', async () => {
    const page = await openCreate();
    expect(await page.textContent('#webgpu-check')).toMatch(/^WebGPU available \(.+\)\.$/);
    expect(await page.textContent('#storage-check')).toMatch(/^Enough storage \(\d+\.\d GB free for R2 Talker\)\.$/);
    expect(await page.isVisible('#cli-route')).toBe(false);
    expect((await page.$$('#reading p')).length).toBeGreaterThan(5);
    await shootBothSchemes(page, 'create');
    await page.close();
  });

  it('without WebGPU says so and shows the command-line route', async () => {
    const page = await openCreate(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    expect(await page.textContent('#webgpu-check')).toMatch(/^This browser offers no WebGPU, .* You can still record here; the avatar is then made with the command line\.$/);
    expect(await page.isVisible('#cli-route')).toBe(true);
    const commands = (await page.textContent('#cli-commands')) ?? '';
    expect(commands).toMatch(/npx r2talker prepare --video \S+\.webm --out my-subject/);
    expect(commands).toMatch(/npx r2talker train --data my-subject --out me\.r2t/);
    expect(commands).toMatch(/npx r2talker train-generator --data my-subject --avatar me\.r2t/);
    expect(commands).toMatch(/Import \.r2t/);
    await shootBothSchemes(page, 'create-no-webgpu');
    await page.close();
  });

  it('with too little storage says how much is needed and free, and blocks recording and import', async () => {
    const page = await openCreate(() => {
      StorageManager.prototype.estimate = () => Promise.resolve({ quota: 600e6, usage: 100e6 });
    });
    expect(await page.textContent('#storage-check')).toBe(
      'Not enough storage: creating an avatar needs about 1.5 GB free for the recording, the prepared frames and training checkpoints; this browser can store 0.5 GB more. Free disk space (or delete avatars you no longer use) and reload this page.',
    );
    expect(await page.isDisabled('#camera-start')).toBe(true);
    expect(await page.isDisabled('#import-video')).toBe(true);
    await page.close();
  });

  it('records a take from the camera and microphone with guidance, keeps it, and refuses it under 2 minutes', async () => {
    const page = await openCreate();
    await page.click('#camera-start');
    await page.waitForFunction(() => (document.getElementById('hint-light')?.textContent ?? '') !== '', null, { timeout: 20_000 });
    expect(await page.isEnabled('#record-start')).toBe(true);
    // the fake devices are listed by name once allowed
    expect(await page.$$eval('#camera option', (o) => o.map((x) => x.textContent))).toContain('fake_device_0');
    for (const id of ['hint-light', 'hint-motion', 'hint-framing']) expect(await page.textContent(`#${id}`)).not.toBe('');
    await page.click('#record-start');
    const timer = await eventually(() => page.textContent('#timer'), (t) => /^0:0[3-9] \/ 5:00$/.test(t ?? ''), 15_000);
    expect(timer).toMatch(/^0:0[3-9] \/ 5:00$/);
    expect(await page.textContent('#timer-hint')).toMatch(/^Keep reading: 1:5\d until the minimum of 2:00\.$/);
    await shootBothSchemes(page, 'create-recording');
    await page.click('#record-stop');
    await page.waitForSelector('#recording-result:not([hidden])');
    expect(await page.textContent('#recording-summary')).toMatch(/^The recording is 0:0\d long: at least 2:00 of you speaking is needed\.$/);
    expect(await page.isDisabled('#continue')).toBe(true);
    const takes = await storedTakes(page);
    const names = Object.keys(takes).filter((n) => n.startsWith('take-'));
    // the take is committed whole: one file, no leftovers
    expect(names).toHaveLength(1);
    expect(takes[names[0]]).toBeGreaterThan(10_000);
    // The download is the stored WebM (EBML magic), under the take's name.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#recording-download')]);
    expect(download.suggestedFilename()).toBe(names[0]);
    const bytes = readFileSync((await download.path())!);
    expect(bytes.length).toBe(takes[names[0]]);
    expect([...bytes.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
    await page.close();
  });

  it('lists the kept take on the next visit: usable, downloadable, deletable', async () => {
    const page = await openCreate();
    await page.waitForSelector('#kept:not([hidden]) #kept-list li');
    const id = (await page.$eval('#kept-list li', (li) => (li as HTMLElement).dataset.takeId)) ?? '';
    expect(id).toMatch(/^take-/);
    await page.click(`#kept-list li[data-take-id="${id}"] .kept-use`);
    expect(await eventually(() => page.textContent('#recording-summary'), (t) => (t ?? '') !== '', 20_000)).toMatch(/^The kept recording is 0:0\d long: at least 2:00 of you speaking is needed\.$/);
    await page.click(`#kept-list li[data-take-id="${id}"] .kept-delete`);
    await page.waitForSelector('#kept', { state: 'hidden' });
    expect(Object.keys(await storedTakes(page))).not.toContain(`${id}.webm`);
    await page.close();
  });

  it('keeps what was recorded when the camera stops during a take, and says so', async () => {
    const page = await openCreate();
    await page.click('#camera-start');
    await page.waitForSelector('#record-start:not([disabled])');
    await page.click('#record-start');
    await eventually(() => page.textContent('#timer'), (t) => /^0:0[2-9]/.test(t ?? ''), 15_000);
    // What Chromium does when a camera is unplugged: the track ends by itself.
    await page.evaluate(() => ((document.getElementById('camera-preview') as HTMLVideoElement).srcObject as MediaStream).getVideoTracks()[0].dispatchEvent(new Event('ended')));
    expect(await eventually(() => page.textContent('#record-error'), (t) => (t ?? '') !== '', 10_000)).toBe(
      'The camera stopped during the take (unplugged, or taken by another program): what was recorded is kept.',
    );
    expect(await page.isVisible('#recording-result')).toBe(true);
    expect(Object.entries(await storedTakes(page)).some(([n, size]) => n.startsWith('take-') && size > 5_000)).toBe(true);
    await page.close();
  });

  it('refuses an imported file that is not a video, or too short, naming it', async () => {
    const page = await openCreate();
    await page.setInputFiles('#import-video', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    expect(await page.textContent('#record-error')).toBe('\u201cnotes.txt\u201d is not a video file (text/plain).');
    await page.setInputFiles('#import-video', { name: 'short.webm', mimeType: 'video/webm', buffer: await makeVideo(5) });
    expect(await eventually(() => page.textContent('#record-error'), (t) => /short\.webm/.test(t ?? ''), 20_000)).toBe('\u201cshort.webm\u201d is 0:05 long: at least 2:00 of you speaking is needed.');
    await page.close();
  });

  it('accepts a 2-minute video, stores it, and at "prepare and train" offers the settings and Start', async () => {
    const page = await openCreate();
    await page.setInputFiles('#import-video', { name: 'me.webm', mimeType: 'video/webm', buffer: await makeVideo(125) });
    await page.waitForSelector('#recording-result:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#recording-summary')).toMatch(/^\u201cme\.webm\u201d: 2:05, \d+ KB, kept on this computer\.$/);
    expect(Object.keys(await storedTakes(page)).some((n) => n.startsWith('import-'))).toBe(true);
    await page.click('#continue');
    expect(await page.isVisible('#train')).toBe(true);
    expect(await page.getAttribute('#step-train', 'aria-current')).toBe('step');
    // Preparing and training both run here (tests/e2e/create-avatar.test.ts trains to the end).
    expect(await eventually(() => page.textContent('#train-status'), (t) => (t ?? '') !== '')).toBe('Ready: Start prepares the recording, then trains. You can pause at any time; closing the tab pauses too.');
    expect(await page.isEnabled('#train-start')).toBe(true);
    expect(await page.isVisible('#cli-route')).toBe(false);
    expect(await page.$$eval('#train-preset option', (o) => o.map((x) => x.textContent))).toEqual(['Quick', 'Standard']);
    // "Start from the built-in face": off by default; the built-in is a Quick model, so Standard
    // turns it off and greys it out.
    expect(await page.isChecked('#train-prior')).toBe(false);
    await page.check('#train-prior');
    await page.selectOption('#train-preset', 'small');
    expect(await page.isDisabled('#train-prior')).toBe(true);
    expect(await page.isChecked('#train-prior')).toBe(false);
    await page.selectOption('#train-preset', 'tiny');
    expect(await page.isEnabled('#train-prior')).toBe(true);
    await page.check('#train-prior');
    await shootBothSchemes(page, 'create-train-settings');
    await page.close();
  });

  it('refuses a folder that is not a prepared subject, naming the missing file', async () => {
    const page = await openCreate();
    await page.setInputFiles('#import-video', { name: 'me2.webm', mimeType: 'video/webm', buffer: await makeVideo(125) });
    await page.waitForSelector('#recording-result:not([hidden])', { timeout: 30_000 });
    await page.click('#continue');
    await page.waitForSelector('#train:not([hidden])');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'not-a-subject-'));
    writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    await page.setInputFiles('#import-subject', dir);
    const folder = path.basename(dir);
    expect(await eventually(() => page.textContent('#train-status'), (t) => /is not a prepared subject/.test(t ?? ''), 20_000)).toBe(
      `\u201c${folder}\u201d is not a prepared subject: ${folder}/transforms_train.json: missing`,
    );
    rmSync(dir, { recursive: true, force: true });
    await page.close();
  });
});
