/** What Node and the encoder page (encoder-page.ts) say to each other. Types only. */

export type VideoCodec = 'vp8' | 'vp9';

export interface EncoderPageConfig {
  width: number;
  height: number;
  fps: number;
  codec: VideoCodec;
  videoBitrate: number;
  /** a key frame every this many frames (seeking cost vs size) */
  keyInterval: number;
  /** null: a silent video */
  audio: { channels: number; sampleRate: number; bitrate: number } | null;
}

export interface EncoderPageApi {
  start(config: EncoderPageConfig): Promise<void>;
  /**
   * Frame `index` (RGBA, base64) and the audio that plays during it (f32 planar, base64,
   * channel after channel; may be empty). Resolves once the encoders have room again.
   */
  addFrame(index: number, rgba: string, audio: string): Promise<void>;
  /** Audio past the last frame (f32 planar base64), then flush both encoders and finalise. */
  finish(tailAudio: string): Promise<{ bytes: number; videoChunks: number; audioChunks: number }>;
  /** base64 of bytes [offset, offset+length) of the finished file */
  read(offset: number, length: number): string;
}

export const ENCODER_GLOBAL = 'r2tEncoder';
