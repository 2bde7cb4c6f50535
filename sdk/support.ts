/**
 * What this browser offers the engine, checked before anything starts so an app gets one
 * specific error (or picks the documented fallback) instead of a half-started head.
 *
 * Video sinks, in order of preference:
 * - 'generator': MediaStreamTrackGenerator (Chromium). Frames carry the engine's timestamps
 *   and the track's size follows setOutputSize exactly.
 * - 'canvas': canvas.captureStream() (every browser with WebRTC). The fallback where
 *   MediaStreamTrackGenerator is missing (Firefox, Safari); the browser paces the capture.
 */
import { TalkingHeadError } from './errors.ts';

export type VideoSinkKind = 'generator' | 'canvas';

export interface SupportReport {
  /** The best video sink, or null when neither exists. */
  videoSink: VideoSinkKind | null;
  /** WebGPU is present (the engine falls back to the CPU reference renderer without it). */
  webgpu: boolean;
  /** Missing features that stop the engine outright, by name. */
  missing: string[];
}

export function supportReport(g: typeof globalThis = globalThis): SupportReport {
  const missing: string[] = [];
  const has = (name: string): boolean => typeof (g as Record<string, unknown>)[name] === 'function';
  if (!has('Worker')) missing.push('Worker');
  if (!has('OffscreenCanvas')) missing.push('OffscreenCanvas');
  if (!has('AudioWorkletNode')) missing.push('AudioWorkletNode');
  if (!has('MediaStream')) missing.push('MediaStream');
  if (!has('createImageBitmap')) missing.push('createImageBitmap');
  let videoSink: VideoSinkKind | null = null;
  if (has('MediaStreamTrackGenerator') && has('VideoFrame')) videoSink = 'generator';
  else if (has('HTMLCanvasElement') && typeof (g as { HTMLCanvasElement?: { prototype?: { captureStream?: unknown } } }).HTMLCanvasElement?.prototype?.captureStream === 'function') videoSink = 'canvas';
  if (videoSink === null) missing.push('MediaStreamTrackGenerator or HTMLCanvasElement.captureStream');
  const nav = (g as { navigator?: { gpu?: unknown } }).navigator;
  return { videoSink, webgpu: !!nav?.gpu, missing };
}

/** Throws UNSUPPORTED_BROWSER naming the first missing feature; returns the sink to use. */
export function requireSupport(preferred: VideoSinkKind | 'auto', g: typeof globalThis = globalThis): VideoSinkKind {
  const report = supportReport(g);
  if (report.missing.length > 0) {
    const feature = report.missing[0]!;
    throw new TalkingHeadError('UNSUPPORTED_BROWSER', `This browser lacks ${report.missing.join(', ')}: the talking head cannot run here.`, feature);
  }
  if (preferred === 'auto') return report.videoSink!;
  if (preferred === 'generator' && report.videoSink !== 'generator') {
    throw new TalkingHeadError('UNSUPPORTED_BROWSER', "videoSink 'generator' needs MediaStreamTrackGenerator, which this browser lacks; use 'canvas' or 'auto'.", 'MediaStreamTrackGenerator');
  }
  return preferred;
}
