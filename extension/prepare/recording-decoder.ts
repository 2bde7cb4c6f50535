/**
 * A recording opened for prepare in a page (the CLI's headless Chromium frame grabber; the
 * extension's create page when its worker cannot decode the file): our demuxer + WebCodecs
 * (worker/prepare/recording.ts) first, else the browser's own <video> element and
 * decodeAudioData, with the reason reported.
 */
import { FormatError } from '../../worker/errors.ts';
import { elementReport, openWebCodecsRecording, type OpenedRecording } from '../../worker/prepare/recording.ts';
import type { DemuxedRecording } from '../../worker/prepare/demux.ts';
import { BlobVideo, decodeAudioBlob, VideoDecodeError } from './video-blob.ts';

export type { OpenedRecording } from '../../worker/prepare/recording.ts';

export async function openRecording(blob: Blob, opts: { timeoutMs?: number; field?: string } = {}): Promise<OpenedRecording> {
  const field = opts.field ?? 'recording';
  if (blob.size === 0) throw FormatError.input(field, 'empty file');
  const attempt = await openWebCodecsRecording(new Uint8Array(await blob.arrayBuffer()), { ...opts, audioFallback: (rate) => decodeAudioBlob(blob, rate) });
  if ('opened' in attempt) return attempt.opened;
  return openWithVideoElement(blob, attempt.fallbackReason, attempt.demuxed, opts.timeoutMs ?? 20_000, field);
}

/** The browser's <video> route, for what the demuxer or WebCodecs cannot read (`reason`). */
export async function openWithVideoElement(blob: Blob, reason: string, d: DemuxedRecording | null, timeoutMs: number, field: string): Promise<OpenedRecording> {
  let el: BlobVideo;
  try {
    el = await BlobVideo.open(blob, timeoutMs);
  } catch (e) {
    if (e instanceof VideoDecodeError) throw FormatError.input(field, `${reason}, and the browser's <video> cannot play it either: ${e.message}`, e);
    throw e;
  }
  const report = elementReport(reason, d);
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
