/** Settings controls shared by the popup and the options page. */
import { OUTPUT_PRESETS, loadSettings, saveSettings, type Settings } from '../shared/settings.ts';

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

const presetKey = (o: { width: number; height: number; frameRate: number }) => `${o.width}x${o.height}@${o.frameRate}`;

/** Binds #enabled, #output, #offset, #blinks, #motion to chrome.storage settings. */
export async function bindSettings(onSaved: (s: Settings) => void = () => undefined): Promise<Settings> {
  const s = await loadSettings();
  const enabled = byId<HTMLInputElement>('enabled');
  const output = byId<HTMLSelectElement>('output');
  const offset = byId<HTMLInputElement>('offset');
  const blinks = byId<HTMLInputElement>('blinks');
  const motion = byId<HTMLInputElement>('motion');
  for (const p of OUTPUT_PRESETS) output.add(new Option(`${p.width} x ${p.height} @ ${p.frameRate} fps`, presetKey(p)));
  enabled.checked = s.enabled;
  output.value = presetKey(s.output);
  offset.value = String(s.lipSyncOffsetMs);
  blinks.checked = s.idleBlinks;
  motion.checked = s.idleHeadMotion;
  const save = async (patch: Partial<Settings>) => onSaved(await saveSettings(patch));
  enabled.addEventListener('change', () => void save({ enabled: enabled.checked }));
  output.addEventListener('change', () => {
    const p = OUTPUT_PRESETS.find((x) => presetKey(x) === output.value);
    if (p) void save({ output: { ...p } });
  });
  offset.addEventListener('change', () => void save({ lipSyncOffsetMs: Math.round(Number(offset.value)) }));
  blinks.addEventListener('change', () => void save({ idleBlinks: blinks.checked }));
  motion.addEventListener('change', () => void save({ idleHeadMotion: motion.checked }));
  return s;
}
