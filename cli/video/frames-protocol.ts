/** What Node and the frame-grabbing page (frames-page.ts) say to each other. Types only. */

export interface VideoInfo {
  duration: number;
  width: number;
  height: number;
}

export interface FramesPageApi {
  /** Loads the video at `url` into a <video>; rejects with the media error when it cannot. */
  open(url: string, timeoutMs: number): Promise<VideoInfo>;
  /** The pictures shown at `times` (seconds): RGB, width*height*3 bytes each, base64 of all. */
  grab(times: number[], timeoutMs: number): Promise<string>;
  /** The sound track as Chromium decodes it, mixed to mono at `sampleRate`, f32 base64; '' when there is none. */
  audio(url: string, sampleRate: number): Promise<string>;
}

export const FRAMES_GLOBAL = 'r2tFrames';
