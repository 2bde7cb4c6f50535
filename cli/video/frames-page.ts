/**
 * Runs inside headless Chromium: Chromium's own demuxers and decoders (WebM VP8/VP9/AV1 +
 * Opus/Vorbis, MP4 H.264 + AAC where the build has them) read the recording, through the same
 * <video>-seek and decodeAudioData code the extension's create page uses
 * (extension/prepare/video-blob.ts). Bundled by chromium.ts pageScript(); used by video-source.ts.
 */
import { BlobVideo, decodeAudioBlob } from '../../extension/prepare/video-blob.ts';
import { toBase64 } from './page-base64.ts';
import { FRAMES_GLOBAL, type FramesPageApi, type VideoInfo } from './frames-protocol.ts';

let video: BlobVideo | null = null;

const api: FramesPageApi = {
  async open(url, timeoutMs): Promise<VideoInfo> {
    // From a Blob, not the served URL: without range requests Chromium cannot seek a network
    // source and keeps showing the first picture.
    video = await BlobVideo.open(await (await fetch(url)).blob(), timeoutMs);
    return video.info;
  },

  async grab(times) {
    if (!video) throw new Error('grab before open');
    const { width: w, height: h } = video.info;
    const out = new Uint8Array(times.length * w * h * 3);
    for (let k = 0; k < times.length; k++) out.set(await video.grab(times[k]), k * w * h * 3);
    return toBase64(out);
  },

  async audio(url, sampleRate) {
    const mono = await decodeAudioBlob(await (await fetch(url)).blob(), sampleRate);
    return mono ? toBase64(new Uint8Array(mono.buffer)) : '';
  },
};

(globalThis as unknown as Record<typeof FRAMES_GLOBAL, FramesPageApi>)[FRAMES_GLOBAL] = api;
