/**
 * Service worker: writes default settings on install and deletes avatars on request from
 * the extension's own pages. No engine, no network: rendering lives in the engine iframe.
 */
import { deleteAvatar, openAvatarDb } from '../shared/avatar-store.ts';
import { isBackgroundRequest, type BackgroundResponse } from '../protocol/background.ts';
import { DEFAULT_SETTINGS, SETTINGS_KEY, loadSettings, saveSettings } from '../shared/settings.ts';

chrome.runtime.onInstalled.addListener(() => {
  void chrome.storage.local.get(SETTINGS_KEY).then((got) => {
    if (got[SETTINGS_KEY] === undefined) return chrome.storage.local.set({ [SETTINGS_KEY]: DEFAULT_SETTINGS });
    return undefined;
  });
});

/**
 * Only our own pages (popup, options; possibly opened in a tab) may ask. Content scripts
 * report the web page's URL as sender.url, so they never pass.
 */
function fromExtensionPage(sender: chrome.runtime.MessageSender): boolean {
  return sender.id === chrome.runtime.id && typeof sender.url === 'string' && sender.url.startsWith(chrome.runtime.getURL(''));
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!fromExtensionPage(sender) || !isBackgroundRequest(message)) return false;
  const reply = (r: BackgroundResponse): void => sendResponse(r);
  (async () => {
    switch (message.kind) {
      case 'delete-avatar': {
        const db = await openAvatarDb();
        try {
          await deleteAvatar(db, message.id);
        } finally {
          db.close();
        }
        const s = await loadSettings();
        if (s.avatarId === message.id) await saveSettings({ avatarId: null });
        return reply({ kind: 'ok' });
      }
    }
  })().catch((e: unknown) => reply({ kind: 'error', message: e instanceof Error ? e.message : String(e) }));
  return true;
});
