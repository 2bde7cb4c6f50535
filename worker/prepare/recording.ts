/**
 * A recording opened for prepare through our demuxer (demux-webm.ts, demux-mp4.ts) and
 * WebCodecs, in a page or a worker. When the demuxer does not read the layout (DemuxUnsupported:
 * another container, laced audio, a rotated phone video) or this browser's WebCodecs lacks the
 * codec, the attempt says why and the caller hands the file to the browser's <video> element
 * (extension/prepare/recording-decoder.ts, in a page). A file the demuxer finds broken (cut
 * before any frame, zero frames, huge pictures) or a still image is refused here with its own
 * message, never handed on. Which route ran is reported (DecoderReport, in prepare.json).
 */
import { FormatError } from '../errors.ts';
import { DemuxUnsupported, sniffContainer, type DemuxedRecording } from './demux.ts';
import { demuxMp4 } from './demux-mp4.ts';
import { demuxWebm } from './demux-webm.ts';
import type { DecoderReport } from './pipeline.ts';
import { decodeAudioTrack } from './webcodecs-audio.ts';
import { WebCodecsVideo } from './webcodecs-video.ts';

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

export type WebCodecsAttempt = { opened: OpenedRecording } | { fallbackReason: string; demuxed: DemuxedRecording | null };

const IMAGE_NAMES = 'JPEG, PNG, GIF, WebP or BMP';

function hexHead(b: Uint8Array): string {
  return [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Demuxes `bytes` as what its first bytes say; DemuxUnsupported and FormatError pass through. */
export function demuxRecording(bytes: Uint8Array, field = 'recording'): DemuxedRecording {
  if (bytes.length === 0) throw FormatError.input(field, 'empty file');
  const kind = sniffContainer(bytes);
  if (kind === 'image') throw FormatError.input(field, `a still image (${IMAGE_NAMES}), not a video recording`);
  if (kind === 'webm') return demuxWebm(bytes);
  if (kind === 'mp4') return demuxMp4(bytes);
  throw new DemuxUnsupported(`not a WebM or MP4 file (it starts with ${hexHead(bytes)})`);
}

export interface WebCodecsOptions {
  timeoutMs?: number;
  field?: string;
  /** The sound when this AudioDecoder lacks the codec (a page: decodeAudioData); null when absent. */
  audioFallback?: (sampleRate: number) => Promise<Float32Array | null>;
}

export async function openWebCodecsRecording(bytes: Uint8Array, opts: WebCodecsOptions = {}): Promise<WebCodecsAttempt> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let d: DemuxedRecording;
  try {
    d = demuxRecording(bytes, opts.field);
  } catch (e) {
    if (e instanceof DemuxUnsupported) return { fallbackReason: e.message, demuxed: null };
    throw e;
  }
  const video = await WebCodecsVideo.open(d.video, timeoutMs);
  if (!video) return { fallbackReason: `this browser's WebCodecs cannot decode ${d.video.codec}`, demuxed: d };
  const report: DecoderReport = {
    route: 'webcodecs',
    container: d.container,
    videoCodec: d.video.codec,
    audioCodec: d.audio?.codec ?? 'none',
    audioRoute: 'none',
    ...(d.truncated ? { truncated: true } : {}),
  };
  const audio = d.audio;
  return {
    opened: {
      width: video.width,
      height: video.height,
      duration: video.durationSeconds,
      report,
      grab: (t) => video.grab(t),
      async audio(rate) {
        if (!audio) return null;
        const pcm = await decodeAudioTrack(audio, rate, timeoutMs);
        if (pcm) {
          report.audioRoute = 'webcodecs';
          return pcm;
        }
        if (!opts.audioFallback) throw FormatError.input(opts.field ?? 'recording', `this browser's AudioDecoder cannot decode ${audio.codec}`);
        report.audioRoute = 'decodeAudioData';
        return opts.audioFallback(rate);
      },
      close: () => video.close(),
    },
  };
}

/** What the <video> route reports, given why it ran and what the demuxer saw (if anything). */
export function elementReport(reason: string, d: DemuxedRecording | null): DecoderReport {
  return {
    route: 'video-element',
    container: d?.container ?? 'unknown',
    videoCodec: d?.video.codec ?? 'unknown',
    audioCodec: d?.audio?.codec ?? 'unknown',
    audioRoute: 'none',
    fallbackReason: reason,
  };
}
