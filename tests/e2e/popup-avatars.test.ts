import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { launch, type Harness } from './helpers/browser.ts';

let h: Harness;
let popup: Page;
beforeAll(async () => {
  h = await launch();
  popup = await h.context.newPage();
  await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
  await popup.waitForSelector('#avatars li');
});
afterAll(async () => {
  await h?.close();
});

const names = () => popup.$$eval('#avatars li .name', (els) => els.map((e) => e.textContent ?? ''));
const storedSettings = () =>
  h.serviceWorker.evaluate(async () => ((await chrome.storage.local.get('r2talker.settings')) as Record<string, { avatarId: string | null }>)['r2talker.settings']);

describe('avatar import in the popup', () => {
  it('validates and stores a good .r2t, lists it and selects it', async () => {
    const avatar = tinyAvatar();
    avatar.name = 'Tiny test head';
    const bytes = writeAvatar(avatar);
    await popup.setInputFiles('#import-file', { name: 'tiny.r2t', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await popup.waitForFunction(() => [...document.querySelectorAll('#avatars li .name')].some((e) => e.textContent === 'Tiny test head'));
    expect(await names()).toEqual(['Built-in avatar', 'Tiny test head']);
    expect(await popup.textContent('#import-message')).toBe('');
    expect(await popup.isHidden('#import-progress')).toBe(true);
    const id = await popup.$eval('#avatars li:nth-child(2)', (li) => (li as HTMLElement).dataset.avatarId);
    expect((await storedSettings()).avatarId).toBe(id);
  });

  it('rejects a corrupt file with a message naming the problem and leaves stored avatars untouched', async () => {
    const before = await names();
    const bytes = writeAvatar(tinyAvatar());
    const broken = bytes.slice(0, Math.floor(bytes.length / 2)); // truncated mid-archive
    await popup.setInputFiles('#import-file', { name: 'broken.r2t', mimeType: 'application/octet-stream', buffer: Buffer.from(broken) });
    await popup.waitForFunction(() => (document.getElementById('import-message')?.textContent ?? '') !== '');
    const message = (await popup.textContent('#import-message')) ?? '';
    expect(message).toMatch(/^broken\.r2t is not a valid R2 Talker avatar \(.+\)$/);
    expect(await names()).toEqual(before);

    await popup.setInputFiles('#import-file', { name: 'notes.r2t', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await popup.waitForFunction(() => (document.getElementById('import-message')?.textContent ?? '').startsWith('notes.r2t'));
    expect(await names()).toEqual(before);
  });

  it('deleting the selected avatar removes it and falls back to the built-in head', async () => {
    await popup.click('#avatars li:nth-child(2) button:text("Delete")');
    await popup.click('#avatars li:nth-child(2) .delete-confirm');
    await popup.waitForFunction(() => document.querySelectorAll('#avatars li').length === 1);
    expect(await names()).toEqual(['Built-in avatar']);
    expect((await storedSettings()).avatarId).toBeNull();
  });
});
