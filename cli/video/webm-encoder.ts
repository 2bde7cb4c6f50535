/**
 * WebM writer for the CLI: frames go to a WebCodecs encoder in headless Chromium one at a
 * time (never the whole video in memory), the audio follows frame by frame so the muxer
 * can interleave as it goes, and the finished file comes back in bounded base64 slices.
 */
import type { Browser, Page } from 'playwright-core';
import { resample } from '../../worker/audio/resample.ts';
import { ConfigError } from '../../worker/errors.ts';
import { ENCODER_GLOBAL, type EncoderPageApi, type EncoderPageConfig, type VideoCodec } from './encoder-protocol.ts';
import { patchDuration } from './webm-inspect.ts';
import { launchChromium, openScriptPage, pageError, toBase64 } from './chromium.ts';

export const OPUS_RATE = 48_000;
export const VIDEO_FPS = 25;
const READ_SLICE = 4 << 20;
const MAX_SIDE = 4096;

export interface WebmAudio {
  /** one array per channel (1 or 2), equal lengths */
  channels: Float32Array[];
  sampleRate: number;
}

export interface WebmEncoderOptions {
  width: number;
  height: number;
  /** default 25 */
  fps?: number;
  /** default vp9 */
  codec?: VideoCodec;
  /** bits per second; default from the frame size */
  videoBitrate?: number;
  audio?: WebmAudio | null;
}

export interface WebmResult {
  bytes: Uint8Array;
  frames: number;
  videoChunks: number;
  audioChunks: number;
}

/** Enough bits that the encoded frames stay close to the rendered ones (tests compare them). */
export function defaultVideoBitrate(width: number, height: number, fps: number): number {
  return Math.round(Math.min(20e6, Math.max(1e6, width * height * fps * 0.5)));
}

type EncoderGlobal = Record<typeof ENCODER_GLOBAL, EncoderPageApi>;

export class WebmEncoder {
  private frames = 0;
  private audioSent = 0;
  private finished = false;

  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    readonly config: EncoderPageConfig,
    /** planar audio at 48 kHz, or null */
    private readonly audio: Float32Array[] | null,
  ) {}

  static async open(opts: WebmEncoderOptions): Promise<WebmEncoder> {
    const fps = opts.fps ?? VIDEO_FPS;
    for (const [k, v] of [
      ['width', opts.width],
      ['height', opts.height],
    ] as const) {
      if (!Number.isInteger(v) || v < 2 || v > MAX_SIDE) throw new ConfigError(`video.${k}: expected an integer in [2, ${MAX_SIDE}], got ${v}`);
    }
    if (!Number.isInteger(fps) || fps < 1 || fps > 120) throw new ConfigError(`video.fps: expected an integer in [1, 120], got ${fps}`);
    const codec = opts.codec ?? 'vp9';
    if (codec !== 'vp8' && codec !== 'vp9') throw new ConfigError(`video.codec: expected vp8 or vp9, got ${JSON.stringify(codec)}`);
    const audio = opts.audio ? to48k(opts.audio) : null;
    const config: EncoderPageConfig = {
      width: opts.width,
      height: opts.height,
      fps,
      codec,
      videoBitrate: opts.videoBitrate ?? defaultVideoBitrate(opts.width, opts.height, fps),
      keyInterval: 2 * fps,
      audio: audio ? { channels: audio.length, sampleRate: OPUS_RATE, bitrate: 64_000 * audio.length } : null,
    };
    const browser = await launchChromium();
    try {
      const page = await openScriptPage(browser, 'encoder-page.ts');
      await page.evaluate((c) => (globalThis as unknown as EncoderGlobal).r2tEncoder.start(c), config).catch((e) => {
        throw pageError('video encoder', e);
      });
      return new WebmEncoder(browser, page, config, audio);
    } catch (e) {
      await browser.close();
      throw e;
    }
  }

  /** Adds the next frame (RGBA, width x height) with the audio that plays during it. */
  async addFrame(rgba: Uint8Array | Uint8ClampedArray): Promise<void> {
    if (this.finished) throw new ConfigError('video encoder: addFrame after finish');
    const { width, height, fps } = this.config;
    if (rgba.length !== width * height * 4) throw new ConfigError(`video frame ${this.frames}: expected ${width * height * 4} RGBA bytes (${width}x${height}), got ${rgba.length}`);
    const index = this.frames;
    const audio = this.audioUntil(Math.round(((index + 1) * OPUS_RATE) / fps));
    await this.page
      .evaluate(([i, f, a]) => (globalThis as unknown as EncoderGlobal).r2tEncoder.addFrame(i, f, a), [index, toBase64(rgba), audio] as const)
      .catch((e) => {
        throw pageError('video encoder', e);
      });
    this.frames++;
  }

  /**
   * Ends the file. Audio stops with the last frame, so a --frames cut does not leave sound
   * over a frozen picture (a full track already covers the audio: one frame per started 40 ms).
   */
  async finish(): Promise<WebmResult> {
    if (this.finished) throw new ConfigError('video encoder: finish called twice');
    if (this.frames < 1) throw new ConfigError('video encoder: expected at least one frame, got none');
    this.finished = true;
    const tail = this.audioUntil(Math.round((this.frames * OPUS_RATE) / this.config.fps));
    const info = await this.page.evaluate((a) => (globalThis as unknown as EncoderGlobal).r2tEncoder.finish(a), tail).catch((e) => {
      throw pageError('video encoder', e);
    });
    const bytes = new Uint8Array(info.bytes);
    for (let at = 0; at < info.bytes; at += READ_SLICE) {
      const len = Math.min(READ_SLICE, info.bytes - at);
      const b64 = await this.page.evaluate(([o, n]) => (globalThis as unknown as EncoderGlobal).r2tEncoder.read(o, n), [at, len] as const);
      const chunk = Buffer.from(b64, 'base64');
      if (chunk.length !== len) throw pageError('video encoder', new Error(`read ${chunk.length} bytes at ${at}, expected ${len}`));
      bytes.set(chunk, at);
    }
    const audioMs = this.audio ? (this.audioSent * 1000) / OPUS_RATE : 0;
    patchDuration(bytes, Math.max((this.frames * 1000) / this.config.fps, audioMs));
    return { bytes, frames: this.frames, videoChunks: info.videoChunks, audioChunks: info.audioChunks };
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** Planar f32 base64 of the audio from what was sent up to sample `end` (clamped). */
  private audioUntil(end: number): string {
    if (!this.audio) return '';
    const stop = Math.min(end, this.audio[0].length);
    if (stop <= this.audioSent) return '';
    const n = stop - this.audioSent;
    const planar = new Float32Array(n * this.audio.length);
    this.audio.forEach((ch, c) => planar.set(ch.subarray(this.audioSent, stop), c * n));
    this.audioSent = stop;
    return toBase64(planar);
  }
}

function to48k(audio: WebmAudio): Float32Array[] {
  const { channels, sampleRate } = audio;
  if (channels.length < 1 || channels.length > 2) throw new ConfigError(`audio.channels: expected 1 or 2, got ${channels.length}`);
  if (channels.some((c) => c.length !== channels[0].length)) throw new ConfigError('audio.channels: expected channels of equal length');
  if (channels[0].length < 1) throw new ConfigError('audio: expected at least one sample, got none');
  return channels.map((c) => (sampleRate === OPUS_RATE ? c : resample(c, sampleRate, OPUS_RATE)));
}
