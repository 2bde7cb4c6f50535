/** What Node and the playback page (playback-page.ts) say to each other. Types only. */

export interface PlaybackReport {
  /** HTMLMediaElement.duration in seconds */
  duration: number;
  width: number;
  height: number;
  /** RGBA base64 of the picture shown at each requested time */
  frames: string[];
  /** currentTime when 'ended' fired, or null when not asked to play */
  playedTo: number | null;
}

export interface PlaybackPageApi {
  probe(webm: string, times: number[], playThrough: boolean): Promise<PlaybackReport>;
  /** the file's audio as Chromium decodes it (decodeAudioData): channel 0, f32 base64 */
  decodeAudio(webm: string, sampleRate: number): Promise<string>;
}

export const PLAYBACK_GLOBAL = 'r2tPlayback';
