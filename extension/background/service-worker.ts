/**
 * Service worker: deletes avatars on request from the
 * extension's own pages and serves avatar bytes to engine iframes that cannot open the
 * extension's IndexedDB (credentialless iframes in COEP pages). No engine, no network.
 */
import { deleteAvatar, getAvatarFile, getAvatarMeta, openAvatarDb } from '../shared/avatar-store.ts';
import { bytesToBase64, isBackgroundRequest, type BackgroundResponse } from '../protocol/background.ts';
import { loadSettings, saveSettings } from '../shared/settings.ts';

// No defaults are written on install: every reader goes through parseSettings, which fills
// them in, and an install-time write raced with the first save (it could overwrite it).

/**
 * Only our own pages (popup, options; possibly opened in a tab) may ask. Content scripts
 * report the web page's URL as sender.url, so they never pass.
 */
function fromExtensionPage(sender: chrome.runtime.MessageSender): boolean {
  return sender.id === chrome.runtime.id && typeof sender.url === 'string' && sender.url.startsWith(chrome.runtime.getURL(''));
}

/**
 * The engine iframe loads under a per-session dynamic extension URL (use_dynamic_url), so it
 * is recognised by scheme and id; content scripts report the web page's URL and never pass.
 */
function fromEngineFrame(sender: chrome.runtime.MessageSender): boolean {
  return sender.id === chrome.runtime.id && typeof sender.url === 'string' && sender.url.startsWith('chrome-extension://');
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (!isBackgroundRequest(message)) return false;
  if (message.kind === 'read-avatar' ? !fromEngineFrame(sender) : !fromExtensionPage(sender)) return false;
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
      case 'read-avatar': {
        const db = await openAvatarDb();
        try {
          const file = await getAvatarFile(db, message.id);
          if (!file) return reply({ kind: 'not-found' });
          const slice = new Uint8Array(await file.slice(message.offset, message.offset + message.length).arrayBuffer());
          const name = (await getAvatarMeta(db, message.id))?.name ?? '';
          return reply({ kind: 'avatar-chunk', total: file.size, offset: message.offset, base64: bytesToBase64(slice), name });
        } finally {
          db.close();
        }
      }
    }
  })().catch((e: unknown) => reply({ kind: 'error', message: e instanceof Error ? e.message : String(e) }));
  return true;
});
