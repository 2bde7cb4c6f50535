/**
 * MAIN-world content script, document_start, every frame. Patches enumerateDevices and
 * getUserMedia (modern and legacy) so the page sees a camera "R2 Talker". Everything else
 * (real cameras, screen capture, legacy desktop capture) goes to the native functions.
 * Only patches and forwards: no page-visible globals besides the patched methods.
 */
import type { FrameTransport } from '../protocol/shim-bridge.ts';
import { BridgeLink } from './bridge-link.ts';
import { CameraSource } from './camera-source.ts';
import { dressCameraTrack, selectSettings } from './camera-track.ts';
import { deviceIdsOf, isDesktopCapture, type VideoTarget } from './constraints.ts';
import { fakeDeviceIds, makeFakeDevice } from './fake-device.ts';
import { MicRouter } from './mic.ts';
import { SyncMeter } from '../../worker/engine/sync.ts';
import { captureNatives, type Natives } from './natives.ts';

const GUARD = Symbol.for('r2talker.shim');
/** How long enumerateDevices/getUserMedia wait for the bridge's first config at page load. */
const CONFIG_WAIT_MS = 1500;
/** How often the measured lip-sync delay may be re-applied to the mic. */
const SYNC_EVERY_MS = 1000;
/**
 * RGBA buffers: on SwiftShader (no GPU, the CI case) a transferred ImageBitmap costs the
 * page's main thread a GPU-process round trip per frame and halves the delivered rate.
 * TODO: use 'bitmap' when the engine runs on a hardware adapter (zero-copy there).
 */
const TRANSPORT: FrameTransport = 'rgba';

type Scope = typeof globalThis & { [GUARD]?: boolean };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function install(natives: Natives): void {
  const link = new BridgeLink();
  const ids = fakeDeviceIds(location.origin);
  const mic = new MicRouter(natives, () => link.config?.micWorkletUrl ?? null);
  const active = new Set<CameraSource>();
  const mediaDevicesProto = MediaDevices.prototype;

  const defaults = (): VideoTarget => {
    const o = link.config?.output;
    return o ? { width: o.width, height: o.height, frameRate: o.frameRate } : { width: 1280, height: 720, frameRate: 30 };
  };

  // The mic delay is the measured audio -> face latency (sync.ts) plus the user's offset.
  const meter = new SyncMeter();
  let appliedDelayMs: number | null = null;
  let lastSyncAt = -Infinity;
  const updateDelay = (): void => {
    const offset = link.config?.lipSyncOffsetMs ?? 0;
    appliedDelayMs = active.size > 0 ? Math.max(0, meter.appliedMs + offset) : 0;
    mic.setDelayMs(appliedDelayMs);
  };
  const hooks = {
    nowUs: () => mic.nowUs(),
    onContent(audioTimeSec: number): void {
      const now = mic.audioNowSec();
      if (now === null) return;
      meter.push(audioTimeSec, now);
      const t = performance.now();
      if (t - lastSyncAt < SYNC_EVERY_MS) return;
      lastSyncAt = t;
      if (meter.nextDelayMs() !== null) updateDelay();
    },
    sync: () => ({ lagMs: meter.lagMs(), delayMs: active.size > 0 ? appliedDelayMs : null }),
  };

  // Mic chunks feed one session only: all sessions of a page share one engine.
  mic.onAudio((samples, sampleRate, timeSec) => {
    const first = active.values().next().value;
    first?.pushAudio(samples, sampleRate, timeSec);
  });

  link.onConfig((config, previous) => {
    updateDelay();
    if (previous && previous.enabled !== config.enabled && navigator.mediaDevices) {
      natives.dispatchEvent.call(navigator.mediaDevices, new Event('devicechange'));
    }
  });

  const wantsFake = (video: unknown): boolean => {
    if (!isRecord(video) || isDesktopCapture(video)) return false;
    const d = deviceIdsOf(video);
    return d.exact.includes(ids.deviceId) || d.ideal.includes(ids.deviceId);
  };

  async function enumerateDevices(this: MediaDevices): Promise<MediaDeviceInfo[]> {
    const real = await natives.enumerateDevices.call(this);
    const config = await link.waitConfig(CONFIG_WAIT_MS);
    if (!config?.enabled) return real;
    let at = real.length;
    for (let i = real.length - 1; i >= 0; i--) {
      if (real[i].kind === 'videoinput') {
        at = i + 1;
        break;
      }
    }
    return [...real.slice(0, at), makeFakeDevice(ids), ...real.slice(at)];
  }

  // A camera-only request still needs the voice for the face: tap the mic privately, but
  // only where the page already holds mic permission (never prompt on our own).
  let privateTap: MediaStream | null = null;
  const ensureTap = async (): Promise<void> => {
    if (mic.live > 0 || privateTap) return;
    try {
      const state = await navigator.permissions.query({ name: 'microphone' as PermissionName });
      if (state.state !== 'granted' || active.size === 0 || mic.live > 0) return;
      privateTap = await mic.route(await natives.getUserMedia.call(navigator.mediaDevices, { audio: true }));
    } catch {
      privateTap = null; // the avatar idles without a voice
    }
  };
  const dropTapIfIdle = (): void => {
    if (active.size > 0 || !privateTap) return;
    for (const t of privateTap.getTracks()) t.stop();
    privateTap = null;
  };

  const routeIfLive = async (stream: MediaStream): Promise<MediaStream> => {
    if (active.size === 0 || stream.getAudioTracks().length === 0) return stream;
    const routed = await mic.route(stream);
    // The page's own mic now feeds the tap; a private one would double the audio.
    if (privateTap && routed !== stream) {
      for (const t of privateTap.getTracks()) t.stop();
      privateTap = null;
    }
    return routed;
  };

  async function getUserMedia(this: MediaDevices, constraints?: MediaStreamConstraints): Promise<MediaStream> {
    if (!isRecord(constraints) || isDesktopCapture(constraints.audio) || !wantsFake(constraints.video)) {
      const stream = await natives.getUserMedia.call(this, constraints);
      return isRecord(constraints) && !isDesktopCapture(constraints.audio) && !isDesktopCapture(constraints.video) ? routeIfLive(stream) : stream;
    }
    const config = await link.waitConfig(CONFIG_WAIT_MS);
    // Turned off: behave exactly as if the device did not exist.
    if (!config?.enabled) return natives.getUserMedia.call(this, constraints);
    const videoConstraints = constraints.video as MediaTrackConstraints;
    const settings = selectSettings(videoConstraints, ids, defaults());
    // Audio first: if the mic is denied the whole request fails, as for a real camera+mic request.
    const audioStream = constraints.audio ? await natives.getUserMedia.call(this, { audio: constraints.audio }) : null;
    const source = await CameraSource.create(settings, link, TRANSPORT, hooks);
    active.add(source);
    const track = dressCameraTrack(source.generator, { source, ids, natives, defaults }, videoConstraints);
    source.onEnded(() => {
      active.delete(source);
      updateDelay();
      dropTapIfIdle();
    });
    updateDelay();
    const audioTracks = audioStream ? (await mic.route(audioStream)).getAudioTracks() : [];
    if (!audioStream) void ensureTap();
    return new MediaStream([...audioTracks, track]);
  }

  const define = (target: object, name: string, value: unknown): void => {
    const desc = Object.getOwnPropertyDescriptor(target, name);
    Object.defineProperty(target, name, { value, writable: desc?.writable ?? true, enumerable: desc?.enumerable ?? true, configurable: true });
  };
  define(mediaDevicesProto, 'enumerateDevices', enumerateDevices);
  define(mediaDevicesProto, 'getUserMedia', getUserMedia);

  // Legacy callback API; non-fake requests (including desktop capture) go to the original.
  for (const name of ['getUserMedia', 'webkitGetUserMedia'] as const) {
    const legacy = (Navigator.prototype as unknown as Record<string, unknown>)[name];
    if (typeof legacy !== 'function') continue;
    const original = legacy as (this: Navigator, c: MediaStreamConstraints, ok: (s: MediaStream) => void, err: (e: unknown) => void) => void;
    define(Navigator.prototype, name, function (this: Navigator, c: MediaStreamConstraints, ok: (s: MediaStream) => void, err: (e: unknown) => void): void {
      if (!isRecord(c) || !wantsFake(c.video)) {
        original.call(this, c, ok, err);
        return;
      }
      getUserMedia.call(navigator.mediaDevices, c).then(
        (s) => ok?.(s),
        (e: unknown) => err?.(e),
      );
    });
  }
}

const scope = globalThis as Scope;
if (!scope[GUARD] && typeof MediaDevices !== 'undefined') {
  scope[GUARD] = true;
  try {
    install(captureNatives());
  } catch (e) {
    console.warn('[R2 Talker] camera shim not installed:', e);
  }
}
