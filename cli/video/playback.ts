/**
 * Plays a WebM back in headless Chromium's <video> element: what a viewer sees, for checking
 * the encoder's output end to end (duration, size, decoded pictures, playing to the end).
 */
import { ConfigError } from '../../worker/errors.ts';
import { launchChromium, openScriptPage, pageError, toBase64 } from './chromium.ts';
import { PLAYBACK_GLOBAL, type PlaybackPageApi } from './playback-protocol.ts';
import { copyBytes } from '../../worker/util/bytes.ts';

export interface Playback {
  durationSeconds: number;
  width: number;
  height: number;
  /** RGBA pictures at the requested times */
  frames: Uint8ClampedArray[];
  /** currentTime at 'ended', or null when playThrough was off */
  playedTo: number | null;
}

const MAX_PROBE_TIMES = 1000;
const MAX_WEBM_BYTES = 256 << 20;

type PlaybackGlobal = Record<typeof PLAYBACK_GLOBAL, PlaybackPageApi>;

/** The file's first audio channel as Chromium decodes it, at `sampleRate`. */
export async function decodeWebmAudio(webm: Uint8Array, sampleRate = 48_000): Promise<Float32Array> {
  if (webm.length > MAX_WEBM_BYTES) throw new ConfigError(`playback: expected a file of at most ${MAX_WEBM_BYTES} bytes, got ${webm.length}`);
  const browser = await launchChromium();
  try {
    const page = await openScriptPage(browser, 'playback-page.ts');
    const b64 = await page
      .evaluate(([w, r]) => (globalThis as unknown as PlaybackGlobal).r2tPlayback.decodeAudio(w, r), [toBase64(webm), sampleRate] as const)
      .catch((e) => {
        throw pageError('playback', e);
      });
    const b = Buffer.from(b64, 'base64');
    return new Float32Array(copyBytes(b));
  } finally {
    await browser.close();
  }
}

export async function playWebm(webm: Uint8Array, times: number[], opts: { playThrough?: boolean } = {}): Promise<Playback> {
  if (webm.length > MAX_WEBM_BYTES) throw new ConfigError(`playback: expected a file of at most ${MAX_WEBM_BYTES} bytes, got ${webm.length}`);
  if (times.length > MAX_PROBE_TIMES || times.some((t) => !Number.isFinite(t) || t < 0)) {
    throw new ConfigError(`playback.times: expected at most ${MAX_PROBE_TIMES} finite times >= 0, got ${times.length}`);
  }
  const browser = await launchChromium();
  try {
    const page = await openScriptPage(browser, 'playback-page.ts');
    const r = await page
      .evaluate(([w, t, p]) => (globalThis as unknown as PlaybackGlobal).r2tPlayback.probe(w, t, p), [toBase64(webm), times, opts.playThrough ?? false] as const)
      .catch((e) => {
        throw pageError('playback', e);
      });
    const frames = r.frames.map((b64) => {
      const b = Buffer.from(b64, 'base64');
      return new Uint8ClampedArray(b.buffer, b.byteOffset, b.byteLength);
    });
    return { durationSeconds: r.duration, width: r.width, height: r.height, frames, playedTo: r.playedTo };
  } finally {
    await browser.close();
  }
}
