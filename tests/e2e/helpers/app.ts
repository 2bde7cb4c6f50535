/** Typed wrappers around the fixture app's window.r2t API (tests/fixtures/pages/app.js). */
import type { BrowserContext, Page } from 'playwright-core';

export interface TrackInfo {
  index: number;
  kind: string;
  label: string;
  readyState: string;
  enabled: boolean;
  settings: MediaTrackSettings & { resizeMode?: string };
  capabilities: MediaTrackCapabilities;
  constraints: MediaTrackConstraints;
  isGenerator: boolean;
}

export interface ErrorInfo {
  name: string;
  message: string;
  constraint?: string;
}

export type OpenResult = { tracks: TrackInfo[]; error?: undefined } | { error: ErrorInfo; tracks?: undefined };

export interface DeviceInfo {
  deviceId: string;
  groupId: string;
  kind: string;
  label: string;
  isInputDeviceInfo: boolean;
  capabilities: MediaTrackCapabilities | null;
}

export interface CameraStats {
  renderFps: number;
  renders: number;
  sentFps: number;
  dropped: number;
  source: string;
  audioSeconds: number;
  avatar: string | null;
  landmarks: string;
  lagMs: number | null;
  micDelayMs: number | null;
  framesWritten: number;
  framesRepeated: number;
  problem: string | null;
  /** The page's performance.now() when these counters were read (ms). */
  at: number;
}

/**
 * Frames the track delivered (new + repeated) per second between two readings, timed by the
 * page's clock: a round trip to a loaded page can take hundreds of ms, which a test-side clock
 * would count as seconds without frames.
 */
export function deliveredRate(a: CameraStats, b: CameraStats): number {
  const frames = b.framesWritten + b.framesRepeated - a.framesWritten - a.framesRepeated;
  return (frames * 1000) / (b.at - a.at);
}

export type R2t = {
  devices(): Promise<DeviceInfo[]>;
  fakeDeviceId(): Promise<string | null>;
  open(c: MediaStreamConstraints): Promise<OpenResult>;
  openFake(v: MediaTrackConstraints, audio?: boolean | MediaTrackConstraints): Promise<OpenResult>;
  legacyOpen(c: MediaStreamConstraints): Promise<OpenResult>;
  info(i: number): TrackInfo;
  apply(i: number, c: MediaTrackConstraints): Promise<{ ok: true; info: TrackInfo; error?: undefined } | { error: ErrorInfo; ok?: undefined; info?: undefined }>;
  clone(i: number): number;
  stop(i: number): TrackInfo;
  setEnabled(i: number, enabled: boolean): void;
  stats(i: number): CameraStats | null;
  watch(i: number, ms: number): Promise<{ fps: number; width: number; height: number }>;
  grab(i: number, w: number, h: number): Promise<number[]>;
  offerWith(i: number): Promise<RTCSessionDescriptionInit>;
  offerWithAll(indices: number[]): Promise<RTCSessionDescriptionInit>;
  acceptAnswer(a: RTCSessionDescriptionInit): Promise<void>;
  events: { devicechange: number };
};

type Methods = { [K in keyof R2t as R2t[K] extends (...a: never[]) => unknown ? K : never]: R2t[K] };

/** Calls window.r2t[name](...args) in the page (no eval in the page: works under strict CSP). */
export function call<K extends keyof Methods>(page: Page, name: K, ...args: Parameters<Methods[K]>): Promise<Awaited<ReturnType<Methods[K]>>> {
  return page.evaluate(
    ([n, a]) => {
      const o = (window as unknown as { r2t: Record<string, (...x: unknown[]) => unknown> }).r2t;
      return o[n](...a);
    },
    [name as string, args as unknown[]] as const,
  ) as Promise<Awaited<ReturnType<Methods[K]>>>;
}

export function openFake(page: Page, video: MediaTrackConstraints, audio: boolean | MediaTrackConstraints = false): Promise<OpenResult> {
  return call(page, 'openFake', video, audio);
}

/**
 * Opens `url` in a new tab of `context`, a fake 320x240 camera at 30 fps in it, and waits (up to
 * 60 s) until the engine has rendered `renders` frames with WebGPU; the caller checks `stats`.
 */
export async function openWebGpuCamera(context: BrowserContext, url: string, renders = 2): Promise<{ page: Page; index: number; error?: ErrorInfo; stats: CameraStats | null }> {
  const page = await context.newPage();
  await page.goto(url);
  const r = await openFake(page, { width: 320, height: 240, frameRate: 30 });
  const index = r.tracks?.[0]?.index ?? -1;
  if (r.error) return { page, index, error: r.error, stats: null };
  const stats = await eventually(() => call(page, 'stats', index), (s) => s?.source === 'webgpu' && (s?.renders ?? 0) >= renders, 60_000, 500);
  return { page, index, stats };
}

/** Polls until `check` passes or `ms` elapse; returns the last value. */
export async function eventually<T>(get: () => Promise<T>, check: (v: T) => boolean, ms = 10_000, every = 200): Promise<T> {
  const end = Date.now() + ms;
  let v = await get();
  while (!check(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, every));
    v = await get();
  }
  return v;
}
