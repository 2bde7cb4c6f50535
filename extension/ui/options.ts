import { bindSettings, byId } from './controls.ts';
import { describeMicError } from './preview-mic.ts';

void bindSettings(() => {
  byId('saved').textContent = 'Saved.';
});

// Granting once here lets the popup's preview use the mic without a prompt (extension origin).
byId('allow-mic').addEventListener('click', async () => {
  const out = byId('mic-result');
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    for (const t of stream.getTracks()) t.stop();
    out.textContent = 'Microphone allowed: the popup preview can use it.';
  } catch (e) {
    out.textContent = describeMicError(e);
  }
});
