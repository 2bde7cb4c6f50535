/**
 * A recording opened for prepare, in a page (the extension's create page, the CLI's headless
 * Chromium frame grabber): our demuxer (worker/prepare/demux-*.ts) + WebCodecs first, the
 * browser's own <video> element and decodeAudioData when the demuxer does not read the layout
 * (DemuxUnsupported: another container, laced audio, a rotated phone video) or this browser's
 * WebCodecs lacks the codec. A file the demuxer finds broken (cut before any frame, zero frames,
 * huge pictures) or a still image is refused with its specific message, not handed on.
 * Which route ran is reported (DecoderReport, copied into prepare.json).
 */
import { FormatError } from '../../worker/errors.ts';
import { DemuxUnsupported, sniffContainer, type DemuxedRecording } from '../../worker/prepare/demux.ts';
import { demuxMp4 } from '../../worker/prepare/demux-mp4.ts';
import { demuxWebm } from '../../worker/prepare/demux-webm.ts';
import type { DecoderReport } from '../../worker/prepare/pipeline.ts';
import { decodeAudioTrack } from '../../worker/prepare/webcodecs-audio.ts';
import { WebCodecsVideo } from '../../worker/prepare/webcodecs-video.ts';
import { BlobVideo, decodeAudioBlob, VideoDecodeError } from './video-blob.ts';

export interface OpenedRecording {
  width: number;
  height: number;
  /** seconds: the end of the last frame */
  duration: number;
  /** The picture shown at `seconds`, as width*height*3 RGB bytes. */
  grab(seconds: number): Promise<Uint8Array>;
  /** The sound mixed to mono at `sampleRate`, or null when the file has none; sets report.audioRoute. */
  audio(sampleRate: number): Promise<Float32Array | null>;
  readonly report: DecoderReport;
  close(): void;
}

const IMAGE_NAMES = 'JPEG, PNG, GIF, WebP or BMP';

function hexHead(b: Uint8Array): string {
  return [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Demuxes `bytes` as what its first bytes say; DemuxUnsupported and FormatError pass through. */
export function demuxRecording(bytes: Uint8Array, field = 'recording'): DemuxedRecording {
  const kind = sniffContainer(bytes);
  if (kind === 'image') throw FormatError.input(field, `a still image (${IMAGE_NAMES}), not a video recording`);
  if (kind === 'webm') return demuxWebm(bytes);
  if (kind === 'mp4') return demuxMp4(bytes);
  throw new DemuxUnsupported(`not a WebM or MP4 file (it starts with ${hexHead(bytes) || 'nothing'})`);
}

export async function openRecording(blob: Blob, opts: { timeoutMs?: number; field?: string } = {}): Promise<OpenedRecording> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const field = opts.field ?? 'recording';
  if (blob.size === 0) throw FormatError.input(field, 'empty file');
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let fallbackReason: string;
  let demuxed: DemuxedRecording | null = null;
  try {
    demuxed = demuxRecording(bytes, field);
  } catch (e) {
    if (!(e instanceof DemuxUnsupported)) throw e;
    fallbackReason = e.message;
  }
  if (demuxed) {
    const video = await WebCodecsVideo.open(demuxed.video, timeoutMs);
    if (video) return webCodecsRoute(blob, demuxed, video, timeoutMs);
    fallbackReason = `this browser's WebCodecs cannot decode ${demuxed.video.codec}`;
  }
  return elementRoute(blob, fallbackReason!, demuxed, timeoutMs, field);
}

function webCodecsRoute(blob: Blob, d: DemuxedRecording, video: WebCodecsVideo, timeoutMs: number): OpenedRecording {
  const report: DecoderReport = {
    route: 'webcodecs',
    container: d.container,
    videoCodec: d.video.codec,
    audioCodec: d.audio?.codec ?? 'none',
    audioRoute: 'none',
    ...(d.truncated ? { truncated: true } : {}),
  };
  return {
    width: video.width,
    height: video.height,
    duration: video.durationSeconds,
    report,
    grab: (t) => video.grab(t),
    async audio(rate) {
      if (!d.audio) return null;
      const pcm = await decodeAudioTrack(d.audio, rate, timeoutMs);
      if (pcm) {
        report.audioRoute = 'webcodecs';
        return pcm;
      }
      // This browser's AudioDecoder lacks the codec: the browser's own decoder may still have it.
      report.audioRoute = 'decodeAudioData';
      return decodeAudioBlob(blob, rate);
    },
    close: () => video.close(),
  };
}

async function elementRoute(blob: Blob, reason: string, d: DemuxedRecording | null, timeoutMs: number, field: string): Promise<OpenedRecording> {
  let el: BlobVideo;
  try {
    el = await BlobVideo.open(blob, timeoutMs);
  } catch (e) {
    if (e instanceof VideoDecodeError) throw FormatError.input(field, `${reason}, and the browser's <video> cannot play it either: ${e.message}`, e);
    throw e;
  }
  const report: DecoderReport = {
    route: 'video-element',
    container: d?.container ?? 'unknown',
    videoCodec: d?.video.codec ?? 'unknown',
    audioCodec: d?.audio?.codec ?? 'unknown',
    audioRoute: 'none',
    fallbackReason: reason,
  };
  return {
    ...el.info,
    report,
    grab: (t) => el.grab(t),
    async audio(rate) {
      const pcm = await decodeAudioBlob(blob, rate);
      if (pcm && pcm.length) report.audioRoute = 'decodeAudioData';
      return pcm;
    },
    close: () => el.close(),
  };
}
