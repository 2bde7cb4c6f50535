/**
 * The popup's first-run card: until the user has chosen a path ("create your avatar" or "use
 * the built-in one") and while no avatar of their own is stored, it says what to do first.
 * The answer lives in chrome.storage.local beside the settings, not in them: it is not a
 * setting, and the settings parser must stay the single reader of that key.
 */
export const FIRST_RUN_KEY = 'r2talker.firstRunDone';

export async function firstRunDone(): Promise<boolean> {
  const got = (await chrome.storage.local.get(FIRST_RUN_KEY)) as Record<string, unknown>;
  return got[FIRST_RUN_KEY] === true;
}

export async function markFirstRunDone(): Promise<void> {
  await chrome.storage.local.set({ [FIRST_RUN_KEY]: true });
}

/** Shows `card` when the user still has to choose; its two buttons record the choice. */
export async function bindFirstRun(card: HTMLElement, create: HTMLElement, useBuiltIn: HTMLElement, storedAvatars: number, chooseBuiltIn: () => Promise<void>): Promise<void> {
  card.hidden = storedAvatars > 0 || (await firstRunDone());
  create.addEventListener('click', () => {
    card.hidden = true;
    void markFirstRunDone();
  });
  useBuiltIn.addEventListener('click', async () => {
    card.hidden = true;
    await chooseBuiltIn();
    await markFirstRunDone();
  });
}
