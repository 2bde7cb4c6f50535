/**
 * Runs inside headless Chromium: loads a WebM into a <video> element and reports what a
 * viewer would get — duration, size, the decoded picture at given times — and whether it
 * plays to the end. Bundled by chromium.ts pageScript(); used to check encoder output.
 */
import { fromBase64, toBase64 } from './page-base64.ts';
import { PLAYBACK_GLOBAL, type PlaybackPageApi, type PlaybackReport } from './playback-protocol.ts';

function once(target: EventTarget, ok: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${ok}" event within ${ms} ms`)), ms);
    const done = (e: Event) => {
      clearTimeout(timer);
      target.removeEventListener(ok, done);
      target.removeEventListener('error', done);
      if (e.type === 'error') reject(new Error(`media error ${(target as HTMLMediaElement).error?.code ?? '?'}: ${(target as HTMLMediaElement).error?.message ?? ''}`));
      else resolve();
    };
    target.addEventListener(ok, done);
    target.addEventListener('error', done);
  });
}

async function probe(webm: string, times: number[], playThrough: boolean): Promise<PlaybackReport> {
  const blob = new Blob([fromBase64(webm)], { type: 'video/webm' });
  const url = URL.createObjectURL(blob);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  document.body.append(video);
  try {
    const loaded = once(video, 'loadeddata', 10_000);
    video.src = url;
    await loaded;
    const width = video.videoWidth;
    const height = video.videoHeight;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2d canvas context');
    const frames: string[] = [];
    for (const t of times) {
      const seeked = once(video, 'seeked', 10_000);
      video.currentTime = t;
      await seeked;
      ctx.drawImage(video, 0, 0);
      frames.push(toBase64(new Uint8Array(ctx.getImageData(0, 0, width, height).data.buffer)));
    }
    let playedTo: number | null = null;
    if (playThrough) {
      video.currentTime = 0;
      await once(video, 'seeked', 10_000);
      const ended = once(video, 'ended', Math.max(10_000, video.duration * 3000));
      await video.play();
      await ended;
      playedTo = video.currentTime;
    }
    return { duration: video.duration, width, height, frames, playedTo };
  } finally {
    video.remove();
    URL.revokeObjectURL(url);
  }
}

async function decodeAudio(webm: string, sampleRate: number): Promise<string> {
  const ctx = new OfflineAudioContext(1, 1, sampleRate);
  const buffer = await ctx.decodeAudioData(fromBase64(webm).buffer);
  const ch = buffer.getChannelData(0);
  return toBase64(new Uint8Array(ch.buffer, ch.byteOffset, ch.byteLength));
}

const api: PlaybackPageApi = { probe, decodeAudio };
(globalThis as unknown as Record<string, PlaybackPageApi>)[PLAYBACK_GLOBAL] = api;
