/**
 * The popup and the settings page as a new user meets them: a first-run card that says what
 * to do first, the chosen avatar idling in the preview without any microphone, a value beside
 * every slider that follows it and is saved, one design in light and dark (screenshots).
 */
import { statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const stored = (key: string) => h.serviceWorker.evaluate(async (k) => ((await chrome.storage.local.get(k)) as Record<string, unknown>)[k], key);

async function openPopup(): Promise<Page> {
  const popup = await h.context.newPage();
  await popup.setViewportSize({ width: 380, height: 700 });
  await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
  await popup.waitForSelector('#avatars li');
  return popup;
}

const previewFrames = (p: Page) => p.$eval('#preview-canvas', (c) => Number((c as HTMLCanvasElement).dataset.frames ?? '0'));

/** Mean distance of the canvas's pixels from its centre pixel's colour: 0 for a flat fill. */
const canvasSpread = (p: Page) =>
  p.$eval('#preview-canvas', (c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const m = ((canvas.height >> 1) * canvas.width + (canvas.width >> 1)) * 4;
    let s = 0;
    for (let i = 0; i < d.length; i += 4) s += Math.abs(d[i] - d[m]) + Math.abs(d[i + 1] - d[m + 1]) + Math.abs(d[i + 2] - d[m + 2]);
    return s / (d.length / 4) / 3;
  });

describe('the popup for a new user', () => {
  it('shows the chosen avatar idling at once, without asking for the microphone', async () => {
    const popup = await openPopup();
    expect(await eventually(() => previewFrames(popup), (n) => n >= 2, 30_000)).toBeGreaterThanOrEqual(2);
    // a picture, not a flat fill: the head on its background
    expect(await canvasSpread(popup)).toBeGreaterThan(10);
    expect(await eventually(() => popup.textContent('#preview-status'), (t) => /idle\.$/.test(t ?? ''), 5000)).toMatch(/^Preview: .+, idle\.$/);
    expect(await popup.textContent('#preview-toggle')).toBe('Talk with my microphone');
    expect(await popup.textContent('#preview-problem')).toBe('');
    const shots = await shootBothSchemes(popup, 'popup-first-run');
    for (const f of shots) expect(statSync(f).size).toBeGreaterThan(10_000);
    await popup.close();
  });

  it('offers "create your avatar" or "use the built-in one" until one is chosen', async () => {
    const popup = await openPopup();
    expect(await popup.isVisible('#first-run')).toBe(true);
    expect(await popup.getAttribute('#first-create', 'href')).toBe('create.html');
    await popup.click('#first-builtin');
    expect(await popup.isVisible('#first-run')).toBe(false);
    expect(await eventually(() => stored('r2talker.firstRunDone'), (v) => v === true, 5000)).toBe(true);
    expect(((await stored('r2talker.settings')) as { avatarId: unknown }).avatarId).toBeNull();
    expect(await popup.isChecked('#avatars li[data-avatar-id="built-in"] input[type=radio]')).toBe(true);
    await popup.reload();
    await popup.waitForSelector('#avatars li');
    expect(await popup.isVisible('#first-run')).toBe(false);
    await popup.close();
  });

  it('shows the lip-sync offset beside its slider while it moves, and saves it', async () => {
    const popup = await openPopup();
    expect(await popup.textContent('#offset-value')).toBe('0 ms');
    await popup.$eval('#offset', (el) => {
      const r = el as HTMLInputElement;
      r.value = '-60';
      r.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(await popup.textContent('#offset-value')).toBe('\u221260 ms');
    await popup.$eval('#offset', (el) => el.dispatchEvent(new Event('change', { bubbles: true })));
    expect(await eventually(async () => ((await stored('r2talker.settings')) as { lipSyncOffsetMs: number }).lipSyncOffsetMs, (v) => v === -60, 5000)).toBe(-60);
    await popup.reload();
    await popup.waitForSelector('#offset-value:not(:empty)');
    expect(await popup.textContent('#offset-value')).toBe('\u221260 ms');
    expect(await eventually(() => previewFrames(popup), (n) => n >= 2, 30_000)).toBeGreaterThanOrEqual(2);
    await shootBothSchemes(popup, 'popup');
    await popup.close();
  });
});

describe('the settings page', () => {
  it('shows every slider value beside it and saves changes, saying so', async () => {
    const page = await h.context.newPage();
    await page.setViewportSize({ width: 900, height: 900 });
    await page.goto(`chrome-extension://${h.extensionId}/options.html`);
    await page.waitForSelector('#render-side-value:not(:empty)');
    // the launch harness renders at 64 px on the CPU; the page shows what is stored
    expect(await page.textContent('#render-side-value')).toBe('64 px');
    expect(await page.inputValue('#renderer')).toBe('cpu');
    expect(await page.textContent('#offset-value')).toBe('\u221260 ms');
    await page.$eval('#render-side', (el) => {
      const r = el as HTMLInputElement;
      r.value = '320';
      r.dispatchEvent(new Event('input', { bubbles: true }));
      r.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(await page.textContent('#render-side-value')).toBe('320 px');
    expect(await eventually(() => page.textContent('#saved'), (t) => t === 'Saved.', 5000)).toBe('Saved.');
    expect(((await stored('r2talker.settings')) as { renderMaxSide: number }).renderMaxSide).toBe(320);
    expect(await page.inputValue('#quality')).toBe('auto');
    await page.selectOption('#quality', 'fast');
    expect(await eventually(async () => ((await stored('r2talker.settings')) as { quality: string }).quality, (v) => v === 'fast', 5000)).toBe('fast');
    await page.selectOption('#renderer', 'auto');
    expect(await eventually(async () => ((await stored('r2talker.settings')) as { renderer: string }).renderer, (v) => v === 'auto', 5000)).toBe('auto');
    await shootBothSchemes(page, 'settings');
    await page.close();
  });
});
