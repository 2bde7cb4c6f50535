/** The settings page: every setting with its value beside it, and the one-time mic grant. */
import { bindSettings, byId } from './controls.ts';
import { describeMicError } from './preview-mic.ts';

let savedTimer: ReturnType<typeof setTimeout> | null = null;
bindSettings(() => {
  const saved = byId('saved');
  saved.textContent = 'Saved.';
  // A confirmation that stays forever stops meaning anything.
  if (savedTimer !== null) clearTimeout(savedTimer);
  savedTimer = setTimeout(() => (saved.textContent = ''), 2500);
}).catch((e: unknown) => {
  const saved = byId('saved');
  saved.className = 'note error';
  saved.textContent = `Settings could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
});

// Granting once here lets the popup's preview use the mic without a prompt (extension origin).
byId('allow-mic').addEventListener('click', async () => {
  const out = byId('mic-result');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const t of stream.getTracks()) t.stop();
    out.className = 'note ok';
    out.textContent = 'Microphone allowed: the popup preview can use it.';
  } catch (e) {
    out.className = 'note error';
    out.textContent = describeMicError(e);
  }
});
