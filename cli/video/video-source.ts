/**
 * `prepare --video`: a recording (.webm / .mp4) as a FrameSource at 25 fps and mono PCM,
 * decoded in headless Chromium (Node has no WebCodecs): our demuxer + WebCodecs, or Chromium's
 * <video> for layouts the demuxer does not read (frames-page.ts; the route is in `decoder`). The file is
 * served to the page by request interception, never over a socket; frames come back in
 * small batches so memory stays bounded whatever the length.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { FormatError } from '../../worker/errors.ts';
import type { DecoderReport, FrameSource, PcmAudio } from '../../worker/prepare/pipeline.ts';
import { OUTPUT_FPS } from '../../worker/prepare/pipeline.ts';
import { launchChromium, openScriptPage, pageError } from './chromium.ts';
import { FRAMES_GLOBAL, type FramesPageApi, type VideoInfo } from './frames-protocol.ts';

const MAX_BYTES = 2 * 1024 ** 3;
const MAX_SIDE = 4096;
/** An hour at 25 fps. */
const MAX_FRAMES = 90_000;
const BATCH = 8;
const TIMEOUT_MS = 20_000;
const AUDIO_RATE = 16_000;
const VIDEO_URL = 'http://127.0.0.1/r2talker-input-video';

type FramesGlobal = Record<typeof FRAMES_GLOBAL, FramesPageApi>;

export interface OpenedVideo {
  frames: FrameSource;
  audio: PcmAudio | null;
  info: VideoInfo;
  /** which route decoded the pictures and the sound (for prepare.json) */
  decoder: DecoderReport;
  close(): Promise<void>;
}

function mimeOf(file: string): string {
  return /\.mp4$|\.m4v$|\.mov$/i.test(file) ? 'video/mp4' : 'video/webm';
}

export async function openVideoFile(file: string, timeoutMs = TIMEOUT_MS): Promise<OpenedVideo> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (e) {
    throw FormatError.input(file, `unreadable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  if (size === 0) throw FormatError.input(file, 'empty file');
  if (size > MAX_BYTES) throw FormatError.input(file, `${size} bytes, over the ${MAX_BYTES}-byte limit`);
  const bytes = await readFile(file);
  const browser: Browser = await launchChromium();
  try {
    const page: Page = await openScriptPage(browser, 'frames-page.ts');
    // Registered after openScriptPage's catch-all, so it takes precedence for this one URL.
    await page.route(VIDEO_URL, (route) => route.fulfill({ status: 200, contentType: mimeOf(file), body: bytes }));
    const info = await page
      .evaluate(([u, t]) => (globalThis as unknown as FramesGlobal).r2tFrames.open(u, t), [VIDEO_URL, timeoutMs] as const)
      .catch((e) => {
        throw FormatError.input(file, pageError('video', e).message.replace(/^(video: )+/, ''), e);
      });
    if (info.width > MAX_SIDE || info.height > MAX_SIDE) throw FormatError.input(file, `frames are ${info.width}x${info.height}, over ${MAX_SIDE}x${MAX_SIDE}`);
    if (!Number.isFinite(info.duration) || info.duration <= 0) throw FormatError.input(file, `zero frames (duration ${info.duration})`);
    const count = Math.min(MAX_FRAMES, Math.floor(info.duration * OUTPUT_FPS));
    if (count < 1) throw FormatError.input(file, 'zero frames');
    const sound = await page.evaluate((r) => (globalThis as unknown as FramesGlobal).r2tFrames.audio(r), AUDIO_RATE).catch((e) => {
      throw FormatError.input(file, pageError('audio', e).message, e);
    });
    const pcm = sound.pcm ? new Float32Array(new Uint8Array(Buffer.from(sound.pcm, 'base64')).buffer) : null;
    let cacheStart = -1;
    let cache: Buffer | null = null;
    const frameBytes = info.width * info.height * 3;
    const frames: FrameSource = {
      count,
      fps: OUTPUT_FPS,
      async read(i) {
        if (!(i >= 0 && i < count)) throw FormatError.input(file, `frame ${i} out of range`);
        if (!cache || i < cacheStart || i >= cacheStart + BATCH) {
          const times = Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => (i + k + 0.5) / OUTPUT_FPS);
          const b64 = await page.evaluate(([t, ms]) => (globalThis as unknown as FramesGlobal).r2tFrames.grab(t, ms), [times, timeoutMs] as const).catch((e) => {
            throw FormatError.input(`${file} frame ${i}`, pageError('video', e).message.replace(/^(video: )+/, ''), e);
          });
          cache = Buffer.from(b64, 'base64');
          cacheStart = i;
        }
        const at = (i - cacheStart) * frameBytes;
        return { width: info.width, height: info.height, rgb: new Uint8Array(cache.buffer, cache.byteOffset + at, frameBytes).slice() };
      },
    };
    return {
      frames,
      audio: pcm && pcm.length ? { samples: pcm, sampleRate: AUDIO_RATE } : null,
      info,
      decoder: sound.decoder,
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
