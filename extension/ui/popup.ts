/**
 * Popup: camera on/off, the engine's status and problems, avatar list and import, output
 * settings, and the live preview driven by the microphone (preview.ts).
 */
import type { BackgroundRequest, BackgroundResponse } from '../protocol/background.ts';
import { listAvatars, openAvatarDb, type AvatarMeta } from '../shared/avatar-store.ts';
import { saveSettings, watchSettings, type Settings } from '../shared/settings.ts';
import { bindSettings, byId } from './controls.ts';
import { watchEngineStatus } from './engine-status.ts';
import { importAvatar } from './import-avatar.ts';
import { LivePreview } from './preview.ts';

const BUILT_IN = { id: null, name: 'Built-in demo head' } as const;

async function main(): Promise<void> {
  // First, so the user learns what happened even if the avatar list fails.
  await watchEngineStatus(byId('engine-summary'), byId('engine-problems'));
  let settings: Settings = await bindSettings((s) => {
    settings = s;
  });
  bindPreview(() => settings);
  const db = await openAvatarDb();
  const list = byId<HTMLUListElement>('avatars');
  const fileInput = byId<HTMLInputElement>('import-file');
  const progress = byId<HTMLProgressElement>('import-progress');
  const message = byId<HTMLParagraphElement>('import-message');

  const render = async (): Promise<void> => {
    const avatars: (AvatarMeta | typeof BUILT_IN)[] = [BUILT_IN, ...(await listAvatars(db))];
    list.replaceChildren(
      ...avatars.map((a) => {
        const li = document.createElement('li');
        const radio = document.createElement('input');
        radio.type = 'radio';
        radio.name = 'avatar';
        radio.checked = settings.avatarId === a.id;
        radio.addEventListener('change', async () => {
          settings = await saveSettings({ avatarId: a.id });
        });
        const label = document.createElement('span');
        label.textContent = a.name;
        li.append(radio, label);
        if (a.id !== null) {
          const del = document.createElement('button');
          del.textContent = 'Delete';
          const id = a.id;
          del.addEventListener('click', async () => {
            const r = await chrome.runtime.sendMessage<BackgroundResponse>({ kind: 'delete-avatar', id } satisfies BackgroundRequest);
            if (r?.kind === 'error') message.textContent = r.message;
            settings = { ...settings, avatarId: settings.avatarId === id ? null : settings.avatarId };
            await render();
          });
          li.append(del);
        }
        li.dataset.avatarId = a.id ?? 'built-in';
        return li;
      }),
    );
  };

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    message.textContent = '';
    progress.hidden = false;
    progress.value = 0;
    try {
      const meta = await importAvatar(db, file, (f) => {
        progress.value = f;
      });
      settings = await saveSettings({ avatarId: meta.id });
      await render();
    } catch (e) {
      message.textContent = e instanceof Error ? e.message : String(e);
    } finally {
      progress.hidden = true;
    }
  });

  await render();
}

/** The preview starts on the user's click (it asks for the mic) and follows every settings change. */
function bindPreview(current: () => Settings): void {
  const preview = new LivePreview({ canvas: byId('preview-canvas'), status: byId('preview-status'), problem: byId('preview-problem') });
  const button = byId<HTMLButtonElement>('preview-toggle');
  const label = (): void => {
    button.textContent = preview.running ? 'Stop preview' : 'Preview with my microphone';
  };
  button.addEventListener('click', async () => {
    if (preview.running) {
      preview.stop();
      label();
      return;
    }
    button.disabled = true;
    try {
      const started = preview.start(current());
      label();
      await started;
    } catch (e) {
      byId('preview-problem').textContent = `The preview could not start: ${e instanceof Error ? e.message : String(e)}`;
      preview.stop();
    } finally {
      button.disabled = false;
      label();
    }
  });
  watchSettings((s) => preview.setOptions(s));
  window.addEventListener('pagehide', () => preview.destroy());
}

main().catch((e: unknown) => {
  byId('status').textContent = `R2 Talker could not start: ${e instanceof Error ? e.message : String(e)}`;
});
