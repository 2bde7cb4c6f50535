/** The popup as a user reads it: the engine status line and the listed problems. */
import type { Page } from 'playwright-core';
import type { Harness } from './browser.ts';

export async function openPopup(h: Harness): Promise<Page> {
  const popup = await h.context.newPage();
  await popup.goto(`chrome-extension://${h.extensionId}/popup.html`);
  await popup.waitForSelector('#engine-summary:not(:empty)');
  return popup;
}

export async function popupStatus(popup: Page): Promise<{ summary: string; problems: string[] }> {
  return {
    summary: (await popup.textContent('#engine-summary')) ?? '',
    problems: await popup.$$eval('#engine-problems li', (els) => els.map((e) => e.textContent ?? '')),
  };
}

/** Waits until the popup shows a problem matching `re` (the engine publishes every 2 s). */
export async function waitForProblem(popup: Page, re: RegExp, ms = 15_000): Promise<{ summary: string; problems: string[] }> {
  const end = Date.now() + ms;
  let s = await popupStatus(popup);
  while (!s.problems.some((p) => re.test(p)) && Date.now() < end) {
    await popup.waitForTimeout(250);
    s = await popupStatus(popup);
  }
  return s;
}
