/** What Node and the frame-grabbing page (frames-page.ts) say to each other. Types only. */
import type { DecoderReport } from '../../worker/prepare/pipeline.ts';

export interface VideoInfo {
  duration: number;
  width: number;
  height: number;
  /** which decoding route reads the file (demuxer + WebCodecs, or <video>), for prepare.json */
  decoder: DecoderReport;
}

export interface FramesPageApi {
  /** Opens the recording at `url` (extension/prepare/recording-decoder.ts); rejects with a specific message when it cannot. */
  open(url: string, timeoutMs: number): Promise<VideoInfo>;
  /** The pictures shown at `times` (seconds): RGB, width*height*3 bytes each, base64 of all. */
  grab(times: number[], timeoutMs: number): Promise<string>;
  /** The sound track mixed to mono at `sampleRate`, f32 base64, '' when there is none; with the report's final audio route. */
  audio(sampleRate: number): Promise<{ pcm: string; decoder: DecoderReport }>;
}

export const FRAMES_GLOBAL = 'r2tFrames';
