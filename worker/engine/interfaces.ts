/**
 * The plug-in points of the engine worker. The renderer (worker/render/, WebGPU; or the CPU
 * reference worker/model/cpu-renderer.ts) and the audio -> landmarks pipeline
 * (worker/audio/ + worker/landmarks/) are wrapped in these so the pacing, transport and
 * session code never depend on how a frame is made.
 */

export interface RenderInput {
  /** Presentation time of the frame on the session clock, microseconds, monotonic. */
  timestampUs: number;
  /**
   * The conditioning window: `window` frames of numLandmarks*3 raw avatar-space landmarks,
   * oldest first, centred on the frame to show; null when idle (no speech path yet).
   */
  landmarks: Float32Array | null;
  /** Index into the avatar's pose track (idle head motion), or 0 when motion is off. */
  poseIndex: number;
  /**
   * Eye value for blinks on the reference's scale (DEFAULT_EYE = the open eye, 0 = shut; see
   * blinks.ts), or null to use the avatar's own track. The renderer scales it to the avatar's own
   * open level (poses.ts eyeOpenLevel).
   */
  eye: number | null;
  /** RMS level of the most recent mic audio in [0, 1]. Only placeholder sources use it. */
  audioLevel: number;
}

/** One rendered image. Renderers pick whichever is cheapest for them to produce. */
export type RenderedFrame =
  | { kind: 'rgba'; width: number; height: number; data: Uint8ClampedArray<ArrayBuffer> }
  | { kind: 'bitmap'; bitmap: ImageBitmap };

export interface FrameRenderer {
  /** Reported in session stats, e.g. "placeholder", "cpu-reference", "webgpu". */
  readonly name: string;
  /** True for sources that are not the product (test cards); surfaced to the popup. */
  readonly isPlaceholder: boolean;
  render(input: RenderInput): Promise<RenderedFrame>;
  /** Idempotent. */
  destroy(): void;
}

/** A landmark window ready to render, with the audio-clock time its centre frame shows. */
export interface LandmarkWindow {
  /** window * numLandmarks * 3, oldest first. */
  frames: Float32Array;
  /** Audio-clock (the page's AudioContext) time of the centre frame, seconds. */
  audioTimeSec: number;
}

export interface LandmarkSource {
  readonly name: string;
  /** How far the newest landmark frame lags the audio it comes from (look-ahead + features), in ms. */
  readonly latencyMs: number;
  /** Mic samples, mono float32, with the capture time of the first sample on the audio clock. */
  pushAudio(samples: Float32Array, sampleRate: number, timeSec: number): void;
  /** The newest complete conditioning window, or null when idle (no recent audio). */
  latestWindow(): LandmarkWindow | null;
  /** RMS of the most recent audio, [0, 1]. */
  level(): number;
  /** Idempotent. */
  destroy(): void;
}
