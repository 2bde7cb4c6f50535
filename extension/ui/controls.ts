/**
 * Settings controls shared by the popup and the options page. Every control shows its value
 * beside it, updated while it moves (input) and saved when it settles (change).
 */
import { LIMITS, OUTPUT_PRESETS, loadSettings, saveSettings, type Settings } from '../shared/settings.ts';

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el as T;
}

const presetKey = (o: { width: number; height: number; frameRate: number }) => `${o.width}x${o.height}@${o.frameRate}`;

/** "+40 ms" / "0 ms" / "−40 ms" (a real minus sign: a hyphen reads as a dash beside a slider). */
export function formatOffset(ms: number): string {
  if (ms === 0) return '0 ms';
  return `${ms > 0 ? '+' : '\u2212'}${Math.abs(ms)} ms`;
}

/** The longest side the avatar renders at (the track scales it up): "256 px". */
export function formatRenderSide(px: number): string {
  return `${px} px`;
}

export function outputLabel(o: { width: number; height: number; frameRate: number }): string {
  return `${o.width} \u00d7 ${o.height}, ${o.frameRate} fps`;
}

function optional<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

/**
 * Binds #enabled, #output, #offset (+ #offset-value), #blinks, #motion and, where the page has
 * them, #renderer, #quality and #render-side (+ #render-side-value) to chrome.storage settings.
 */
export async function bindSettings(onSaved: (s: Settings) => void = () => undefined): Promise<Settings> {
  const s = await loadSettings();
  const enabled = byId<HTMLInputElement>('enabled');
  const output = byId<HTMLSelectElement>('output');
  const offset = byId<HTMLInputElement>('offset');
  const offsetValue = optional<HTMLOutputElement>('offset-value');
  const blinks = byId<HTMLInputElement>('blinks');
  const motion = byId<HTMLInputElement>('motion');
  for (const p of OUTPUT_PRESETS) output.add(new Option(outputLabel(p), presetKey(p)));
  if (!OUTPUT_PRESETS.some((p) => presetKey(p) === presetKey(s.output))) output.add(new Option(`${outputLabel(s.output)} (custom)`, presetKey(s.output)));
  enabled.checked = s.enabled;
  output.value = presetKey(s.output);
  // The slider's range must hold the stored value, whatever page set it.
  offset.min = String(Math.min(Number(offset.min), s.lipSyncOffsetMs));
  offset.max = String(Math.max(Number(offset.max), s.lipSyncOffsetMs));
  offset.value = String(s.lipSyncOffsetMs);
  const showOffset = (): void => {
    if (offsetValue) offsetValue.textContent = formatOffset(Math.round(Number(offset.value)));
  };
  showOffset();
  blinks.checked = s.idleBlinks;
  motion.checked = s.idleHeadMotion;
  const save = async (patch: Partial<Settings>) => onSaved(await saveSettings(patch));
  enabled.addEventListener('change', () => void save({ enabled: enabled.checked }));
  output.addEventListener('change', () => {
    const p = OUTPUT_PRESETS.find((x) => presetKey(x) === output.value);
    if (p) void save({ output: { ...p } });
  });
  offset.addEventListener('input', showOffset);
  offset.addEventListener('change', () => void save({ lipSyncOffsetMs: Math.round(Number(offset.value)) }));
  blinks.addEventListener('change', () => void save({ idleBlinks: blinks.checked }));
  motion.addEventListener('change', () => void save({ idleHeadMotion: motion.checked }));

  const renderer = optional<HTMLSelectElement>('renderer');
  if (renderer) {
    renderer.value = s.renderer;
    renderer.addEventListener('change', () => void save({ renderer: renderer.value === 'cpu' ? 'cpu' : 'auto' }));
  }
  const quality = optional<HTMLSelectElement>('quality');
  if (quality) {
    quality.value = s.quality;
    quality.addEventListener('change', () => {
      const q = quality.value;
      if (q === 'auto' || q === 'exact' || q === 'fast') void save({ quality: q });
    });
  }
  const side = optional<HTMLInputElement>('render-side');
  if (side) {
    const sideValue = optional<HTMLOutputElement>('render-side-value');
    side.min = String(Math.max(LIMITS.minRenderSide, Math.min(Number(side.min), s.renderMaxSide)));
    side.max = String(Math.min(LIMITS.maxRenderSide, Math.max(Number(side.max), s.renderMaxSide)));
    side.value = String(s.renderMaxSide);
    const showSide = (): void => {
      if (sideValue) sideValue.textContent = formatRenderSide(Math.round(Number(side.value)));
    };
    showSide();
    side.addEventListener('input', showSide);
    side.addEventListener('change', () => void save({ renderMaxSide: Math.round(Number(side.value)) }));
  }
  return s;
}
