/**
 * User settings, kept in chrome.storage.local under one key. Every reader goes through
 * `parseSettings`, so a corrupt or older stored value degrades to defaults field by field
 * instead of breaking the camera.
 */
import type { EngineOptions } from '../protocol/bridge-engine.ts';

export const SETTINGS_KEY = 'r2talker.settings';

export interface OutputSize {
  width: number;
  height: number;
  frameRate: number;
}

export const OUTPUT_PRESETS: readonly OutputSize[] = [
  { width: 1280, height: 720, frameRate: 30 },
  { width: 640, height: 480, frameRate: 30 },
  { width: 1920, height: 1080, frameRate: 30 },
];

export interface Settings {
  /** The camera "R2 Talker" is listed and usable only while enabled. */
  enabled: boolean;
  /** Default output when the app does not constrain the size. */
  output: OutputSize;
  /** Added to the automatic mic delay; positive delays the voice more. */
  lipSyncOffsetMs: number;
  idleBlinks: boolean;
  idleHeadMotion: boolean;
  /** IndexedDB id of the chosen avatar, or null for the built-in default. */
  avatarId: string | null;
  /** 'auto': WebGPU where available, else the CPU reference; 'cpu' forces the CPU reference. */
  renderer: 'auto' | 'cpu';
  /** Longest side the avatar is rendered at; the track scales it up (lower = faster). */
  renderMaxSide: number;
  /** 'auto': exact while it holds the frame rate, else fast mode; or always 'exact' / 'fast'. */
  quality: 'auto' | 'exact' | 'fast';
  /**
   * Threads that render the CPU fallback's fast frames (worker/engine/render-pool.ts): 0, one
   * per core (up to 4); 1, the render worker alone.
   */
  cpuThreads: number;
}

export const DEFAULT_SETTINGS: Settings = {
  enabled: true,
  output: { width: 1280, height: 720, frameRate: 30 },
  lipSyncOffsetMs: 0,
  idleBlinks: true,
  idleHeadMotion: true,
  avatarId: null,
  renderer: 'auto',
  renderMaxSide: 256,
  quality: 'auto',
  cpuThreads: 0,
};

export const LIMITS = {
  minSide: 16,
  maxWidth: 1920,
  maxHeight: 1080,
  minFrameRate: 1,
  maxFrameRate: 30,
  maxLipSyncOffsetMs: 500,
  minRenderSide: 32,
  maxRenderSide: 2048,
  maxCpuThreads: 8,
} as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(v: unknown, lo: number, hi: number): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : null;
}

/** Accepts anything read from storage or a message; invalid fields fall back to defaults. */
export function parseSettings(raw: unknown): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS, output: { ...DEFAULT_SETTINGS.output } };
  if (!isRecord(raw)) return s;
  if (typeof raw.enabled === 'boolean') s.enabled = raw.enabled;
  if (isRecord(raw.output)) {
    const w = intIn(raw.output.width, LIMITS.minSide, LIMITS.maxWidth);
    const h = intIn(raw.output.height, LIMITS.minSide, LIMITS.maxHeight);
    const f = intIn(raw.output.frameRate, LIMITS.minFrameRate, LIMITS.maxFrameRate);
    if (w !== null && h !== null) s.output = { width: w, height: h, frameRate: f ?? s.output.frameRate };
  }
  const off = intIn(raw.lipSyncOffsetMs, -LIMITS.maxLipSyncOffsetMs, LIMITS.maxLipSyncOffsetMs);
  if (off !== null) s.lipSyncOffsetMs = off;
  if (typeof raw.idleBlinks === 'boolean') s.idleBlinks = raw.idleBlinks;
  if (typeof raw.idleHeadMotion === 'boolean') s.idleHeadMotion = raw.idleHeadMotion;
  if (raw.avatarId === null || (typeof raw.avatarId === 'string' && raw.avatarId.length > 0 && raw.avatarId.length <= 64)) {
    s.avatarId = raw.avatarId;
  }
  if (raw.renderer === 'auto' || raw.renderer === 'cpu') s.renderer = raw.renderer;
  const side = intIn(raw.renderMaxSide, LIMITS.minRenderSide, LIMITS.maxRenderSide);
  if (side !== null) s.renderMaxSide = side;
  if (raw.quality === 'auto' || raw.quality === 'exact' || raw.quality === 'fast') s.quality = raw.quality;
  const threads = intIn(raw.cpuThreads, 0, LIMITS.maxCpuThreads);
  if (threads !== null) s.cpuThreads = threads;
  return s;
}

export async function loadSettings(): Promise<Settings> {
  const got = await chrome.storage.local.get(SETTINGS_KEY);
  return parseSettings(got[SETTINGS_KEY]);
}

export async function saveSettings(patch: Partial<Settings>): Promise<Settings> {
  const next = parseSettings({ ...(await loadSettings()), ...patch });
  await chrome.storage.local.set({ [SETTINGS_KEY]: next });
  return next;
}

/** Calls `cb` with the parsed settings whenever they change in storage. Returns an unsubscribe. */
export function watchSettings(cb: (s: Settings) => void): () => void {
  const listener = (changes: Record<string, chrome.storage.StorageChange>, area: string): void => {
    if (area !== 'local' || !(SETTINGS_KEY in changes)) return;
    cb(parseSettings(changes[SETTINGS_KEY].newValue));
  };
  chrome.storage.onChanged.addListener(listener);
  return () => chrome.storage.onChanged.removeListener(listener);
}

/** What the engine needs of the settings (the page bridge and the popup preview alike). */
export function engineOptionsFrom(s: Settings): EngineOptions {
  return { avatarId: s.avatarId, idleBlinks: s.idleBlinks, idleHeadMotion: s.idleHeadMotion, backend: s.renderer, renderMaxSide: s.renderMaxSide, quality: s.quality, cpuThreads: s.cpuThreads };
}
