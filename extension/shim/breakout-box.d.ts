/** Chromium's MediaStreamTrackGenerator (Window only), absent from TypeScript's DOM lib. */
declare class MediaStreamTrackGenerator extends MediaStreamTrack {
  constructor(init: { kind: 'video' | 'audio' });
  readonly writable: WritableStream<VideoFrame>;
}
