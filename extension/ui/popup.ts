/**
 * Popup: camera on/off, an idle preview of the chosen avatar from the moment it opens (the
 * microphone only on request), the avatar library (choose, import, create, rename, export,
 * delete), the engine's status and problems, and the output settings.
 */
import { openAvatarDb } from '../shared/avatar-store.ts';
import { saveSettings, watchSettings, type Settings } from '../shared/settings.ts';
import { AvatarLibrary } from './avatar-library.ts';
import { bindSettings, byId } from './controls.ts';
import { watchEngineStatus } from './engine-status.ts';
import { bindFirstRun } from './first-run.ts';
import { importAvatar } from './import-avatar.ts';
import { LivePreview } from './preview.ts';

async function main(): Promise<void> {
  // First, so the user learns what happened even if the avatar list fails.
  await watchEngineStatus(byId('engine-summary'), byId('engine-problems'));
  let settings: Settings = await bindSettings((s) => {
    settings = s;
  });
  const preview = bindPreview(() => settings);
  const db = await openAvatarDb();
  const importError = byId<HTMLParagraphElement>('import-message');
  const library = new AvatarLibrary(db, { list: byId('avatars'), error: importError, done: byId('library-message') }, {
    chosen: () => settings.avatarId,
    choose: async (id) => {
      settings = await saveSettings({ avatarId: id });
    },
  });
  watchSettings((s) => {
    const changed = s.avatarId !== settings.avatarId;
    settings = s;
    if (changed) void library.render();
  });
  const fileInput = byId<HTMLInputElement>('import-file');
  const progress = byId<HTMLProgressElement>('import-progress');

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!file) return;
    importError.textContent = '';
    byId('library-message').textContent = '';
    progress.hidden = false;
    progress.value = 0;
    try {
      const meta = await importAvatar(db, file, (f) => {
        progress.value = f;
      });
      settings = await saveSettings({ avatarId: meta.id });
      await library.render();
      byId('library-message').textContent = `Imported \u201c${meta.name}\u201d: it is now the camera.`;
      byId('first-run').hidden = true;
    } catch (e) {
      importError.textContent = e instanceof Error ? e.message : String(e);
    } finally {
      progress.hidden = true;
    }
  });

  const stored = await library.render();
  await bindFirstRun(byId('first-run'), byId('first-create'), byId('first-builtin'), stored.length, async () => {
    settings = await saveSettings({ avatarId: null });
    await library.render();
  });
  await preview;
}

/**
 * The preview starts idling as soon as the popup opens (no mic prompt) and follows every
 * settings change; the button adds and removes the microphone.
 */
async function bindPreview(current: () => Settings): Promise<void> {
  const problem = byId('preview-problem');
  const preview = new LivePreview({ canvas: byId('preview-canvas'), status: byId('preview-status'), problem });
  const button = byId<HTMLButtonElement>('preview-toggle');
  const label = (): void => {
    button.textContent = preview.micOn ? 'Stop microphone' : 'Talk with my microphone';
    button.classList.toggle('primary', preview.micOn);
  };
  button.addEventListener('click', async () => {
    if (preview.micOn) {
      preview.stopMic();
      label();
      return;
    }
    button.disabled = true;
    try {
      if (!preview.running) await preview.start(current());
      await preview.startMic();
    } catch (e) {
      problem.textContent = `The preview could not start: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      button.disabled = false;
      label();
    }
  });
  watchSettings((s) => preview.setOptions(s));
  window.addEventListener('pagehide', () => preview.destroy());
  label();
  try {
    await preview.start(current());
  } catch (e) {
    problem.textContent = `The preview could not start: ${e instanceof Error ? e.message : String(e)}`;
    preview.stop();
  }
}

main().catch((e: unknown) => {
  byId('status').textContent = `R2 Talker could not start: ${e instanceof Error ? e.message : String(e)}`;
});
