/**
 * The avatar library in the popup: rename (validated, kept across reopening), export (the
 * download is the stored file, byte for byte, under a safe name) and delete (asks first; the
 * camera falls back to the built-in avatar). Import is covered by popup-avatars.test.ts.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBuiltinAvatar } from '../../worker/avatar/builtin.node.ts';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { eventually } from './helpers/app.ts';
import { launch, type Harness } from './helpers/browser.ts';
import { shootBothSchemes } from './helpers/screenshots.ts';

let h: Harness;
let popup: Page;
let bytes: Uint8Array;
let id = '';

const names = () => popup.$$eval('#avatars li .name', (els) => els.map((e) => e.textContent ?? ''));
const row = () => `#avatars li[data-avatar-id="${id}"]`;
const chosenId = async () => ((await h.serviceWorker.evaluate(async () => (await chrome.storage.local.get('r2talker.settings'))['r2talker.settings'])) as { avatarId: string | null }).avatarId;

beforeAll(async () => {
  h = await launch();
  popup = await h.context.newPage();
  await popup.setViewportSize({ width: 380, height: 700 });
  await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
  await popup.waitForSelector('#avatars li');
  // A trained face (the built-in's weights under another name), so the screenshots show what a
  // user's own avatar looks like in the list rather than random weights' noise.
  const avatar = await loadBuiltinAvatar();
  avatar.name = 'Studio take';
  bytes = writeAvatar(avatar);
  await popup.setInputFiles('#import-file', { name: 'take.r2t', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  await popup.waitForFunction(() => document.querySelectorAll('#avatars li').length === 2);
  id = (await popup.$eval('#avatars li:nth-child(2)', (li) => (li as HTMLElement).dataset.avatarId)) ?? '';
});
afterAll(async () => {
  await h?.close();
});

describe('the avatar library', () => {
  it('lists the import with its size, chosen, and says so', async () => {
    expect(await names()).toEqual(['Built-in avatar', 'Studio take']);
    expect(await popup.textContent(`${row()} small`)).toMatch(/^\d+ KB · added .+$/);
    expect(await popup.isChecked(`${row()} input[type=radio]`)).toBe(true);
    expect(await popup.textContent('#library-message')).toBe('Imported \u201cStudio take\u201d: it is now the camera.');
    expect(await chosenId()).toBe(id);
  });

  it('refuses an empty name with a message and keeps the old one', async () => {
    await popup.click(`${row()} button:text("Rename")`);
    await popup.fill('#avatars .rename-input', '   ');
    await popup.click('#avatars .rename-save');
    expect(await popup.textContent('#import-message')).toBe('The name is empty: type at least one letter.');
    await popup.click('#avatars .rename-cancel');
    expect(await names()).toEqual(['Built-in avatar', 'Studio take']);
  });

  it('renames with Enter, and the new name stays after reopening the popup', async () => {
    await popup.click(`${row()} button:text("Rename")`);
    await popup.fill('#avatars .rename-input', '  Me:  at the desk ');
    await popup.press('#avatars .rename-input', 'Enter');
    await popup.waitForFunction(() => [...document.querySelectorAll('#avatars li .name')].some((e) => e.textContent === 'Me: at the desk'));
    expect(await popup.textContent('#library-message')).toBe('Renamed to \u201cMe: at the desk\u201d.');
    expect(await popup.textContent('#import-message')).toBe('');
    await popup.reload();
    await popup.waitForSelector(row());
    expect(await names()).toEqual(['Built-in avatar', 'Me: at the desk']);
    // renaming does not change which avatar is the camera
    expect(await chosenId()).toBe(id);
  });

  it('exports the stored file unchanged as a .r2t download named after the avatar', async () => {
    const [download] = await Promise.all([popup.waitForEvent('download'), popup.click(`${row()} button:text("Export")`)]);
    expect(download.suggestedFilename()).toBe('Me- at the desk.r2t');
    const got = readFileSync((await download.path())!);
    expect(got.length).toBe(bytes.length);
    expect(Buffer.compare(got, Buffer.from(bytes))).toBe(0);
    expect(await popup.textContent('#library-message')).toMatch(/^Exported \u201cMe: at the desk\u201d as Me- at the desk\.r2t \(\d+ KB\)\.$/);
    // the preview calls it by its library name (the file inside still says "Studio take")
    expect(await eventually(() => popup.textContent('#preview-status'), (t) => /idle\.$/.test(t ?? ''), 30_000)).toMatch(/^Preview: Me: at the desk on .+, idle\.$/);
    await shootBothSchemes(popup, 'popup-library');
  });

  it('asks before deleting; "Keep" keeps it, "Delete" removes it and the camera falls back to the built-in avatar', async () => {
    await popup.click(`${row()} button:text("Delete")`);
    expect(await popup.textContent(`${row()} .confirm span`)).toBe('Delete \u201cMe: at the desk\u201d? This cannot be undone.');
    await shootBothSchemes(popup, 'popup-delete-confirm');
    await popup.click(`${row()} .delete-cancel`);
    expect(await popup.$(`${row()} .confirm`)).toBeNull();
    expect(await names()).toEqual(['Built-in avatar', 'Me: at the desk']);

    await popup.click(`${row()} button:text("Delete")`);
    await popup.click(`${row()} .delete-confirm`);
    await popup.waitForFunction(() => document.querySelectorAll('#avatars li').length === 1);
    expect(await names()).toEqual(['Built-in avatar']);
    expect(await popup.textContent('#library-message')).toBe('Deleted \u201cMe: at the desk\u201d.');
    expect(await eventually(chosenId, (v) => v === null, 5000)).toBeNull();
    expect(await popup.isChecked('#avatars li[data-avatar-id="built-in"] input[type=radio]')).toBe(true);
  });
});
