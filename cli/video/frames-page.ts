/**
 * Runs inside headless Chromium: the recording is read by the same code the extension's
 * create page uses (extension/prepare/recording-decoder.ts): our WebM/MP4 demuxer + WebCodecs,
 * or Chromium's own <video> and decodeAudioData for what the demuxer does not read.
 * Bundled by chromium.ts pageScript(); used by video-source.ts.
 */
import { openRecording, type OpenedRecording } from '../../extension/prepare/recording-decoder.ts';
import { toBase64 } from './page-base64.ts';
import { FRAMES_GLOBAL, type FramesPageApi, type VideoInfo } from './frames-protocol.ts';

let recording: OpenedRecording | null = null;

const api: FramesPageApi = {
  async open(url, timeoutMs): Promise<VideoInfo> {
    // From a Blob, not the served URL: without range requests Chromium cannot seek a network
    // source and keeps showing the first picture (the <video> route).
    recording = await openRecording(await (await fetch(url)).blob(), { timeoutMs, field: 'video' });
    const { width, height, duration, report } = recording;
    return { width, height, duration, decoder: { ...report } };
  },

  async grab(times) {
    if (!recording) throw new Error('grab before open');
    const { width: w, height: h } = recording;
    const out = new Uint8Array(times.length * w * h * 3);
    for (let k = 0; k < times.length; k++) out.set(await recording.grab(times[k]), k * w * h * 3);
    return toBase64(out);
  },

  async audio(sampleRate) {
    if (!recording) throw new Error('audio before open');
    const mono = await recording.audio(sampleRate);
    return { pcm: mono ? toBase64(new Uint8Array(mono.buffer, mono.byteOffset, mono.byteLength)) : '', decoder: { ...recording.report } };
  },
};

(globalThis as unknown as Record<typeof FRAMES_GLOBAL, FramesPageApi>)[FRAMES_GLOBAL] = api;
