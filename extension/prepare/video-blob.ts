/**
 * A recording (WebM from MediaRecorder, or an imported WebM/MP4) read by the browser's own
 * demuxers and decoders, in a page: each frame is a <video> seek drawn to a canvas, and the
 * sound track goes through decodeAudioData, which also resamples. Shared by the extension's
 * create page and the CLI's headless-Chromium frame grabber (cli/video/frames-page.ts).
 */
import { rgbaToRgb } from '../../worker/prepare/webcodecs-video.ts';

export interface BlobVideoInfo {
  duration: number;
  width: number;
  height: number;
}

export class VideoDecodeError extends Error {
  override readonly name = 'VideoDecodeError';
}

function wait(target: HTMLVideoElement, ok: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new VideoDecodeError(`no "${ok}" from the video within ${ms} ms`)), ms);
    const onOk = (): void => finish(null);
    const onErr = (): void => finish(new VideoDecodeError(`cannot decode the video (media error ${target.error?.code ?? '?'}${target.error?.message ? `: ${target.error.message}` : ''})`));
    function finish(e: Error | null): void {
      clearTimeout(timer);
      target.removeEventListener(ok, onOk);
      target.removeEventListener('error', onErr);
      if (e) reject(e);
      else resolve();
    }
    target.addEventListener(ok, onOk);
    target.addEventListener('error', onErr);
  });
}

/** A video element over one Blob, seekable to any time, giving RGB pictures. */
export class BlobVideo {
  private constructor(
    readonly info: BlobVideoInfo,
    private readonly video: HTMLVideoElement,
    private readonly url: string,
    private readonly ctx: CanvasRenderingContext2D,
    private readonly timeoutMs: number,
  ) {}

  static async open(blob: Blob, timeoutMs = 20_000): Promise<BlobVideo> {
    const v = document.createElement('video');
    v.muted = true;
    v.preload = 'auto';
    // A detached <video> keeps showing its first picture after a seek: it must be in the page.
    v.style.cssText = 'position:fixed;left:-10000px;width:1px;height:1px';
    document.body.append(v);
    const url = URL.createObjectURL(blob);
    try {
      const loaded = wait(v, 'loadeddata', timeoutMs);
      v.src = url;
      await loaded;
      if (!(v.videoWidth > 0 && v.videoHeight > 0)) throw new VideoDecodeError('the file has no video track');
      let duration = v.duration;
      // MediaRecorder's WebM carries no duration: Chromium learns it only once it has seen the
      // end, so seek far past it and read the duration the seek reveals.
      if (!Number.isFinite(duration)) {
        const seeked = wait(v, 'seeked', timeoutMs);
        v.currentTime = 1e9;
        await seeked;
        duration = v.duration;
        const back = wait(v, 'seeked', timeoutMs);
        v.currentTime = 0;
        await back;
      }
      // A DOM canvas: drawing a <video> into an OffscreenCanvas keeps giving its first picture.
      const canvas = document.createElement('canvas');
      canvas.width = v.videoWidth;
      canvas.height = v.videoHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new VideoDecodeError('no 2d canvas');
      return new BlobVideo({ duration, width: v.videoWidth, height: v.videoHeight }, v, url, ctx, timeoutMs);
    } catch (e) {
      v.remove();
      URL.revokeObjectURL(url);
      throw e;
    }
  }

  /** The picture shown at `time` seconds, as width*height*3 RGB bytes. */
  async grab(time: number): Promise<Uint8Array> {
    const seeked = wait(this.video, 'seeked', this.timeoutMs);
    this.video.currentTime = time;
    await seeked;
    const { width: w, height: h } = this.info;
    this.ctx.drawImage(this.video, 0, 0, w, h);
    return rgbaToRgb(this.ctx.getImageData(0, 0, w, h).data);
  }

  close(): void {
    this.video.removeAttribute('src');
    this.video.load();
    this.video.remove();
    URL.revokeObjectURL(this.url);
  }
}

/** The sound track mixed to mono at `sampleRate`, or null when there is none (or it cannot be decoded). */
export async function decodeAudioBlob(blob: Blob, sampleRate: number): Promise<Float32Array | null> {
  let decoded: AudioBuffer;
  try {
    decoded = await new OfflineAudioContext(1, 1, sampleRate).decodeAudioData(await blob.arrayBuffer());
  } catch {
    return null;
  }
  const mono = new Float32Array(decoded.length);
  for (let c = 0; c < decoded.numberOfChannels; c++) {
    const ch = decoded.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += ch[i] / decoded.numberOfChannels;
  }
  return mono;
}
