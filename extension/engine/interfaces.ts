/**
 * The plug-in points of the engine worker. The renderer (worker/render/, WebGPU; or the CPU
 * reference worker/model/cpu-renderer.ts) and the audio -> landmarks pipeline
 * (worker/audio/ + worker/landmarks/) are wrapped in these so the pacing, transport and
 * session code never depend on how a frame is made.
 */

export interface RenderInput {
  /** Presentation time of the frame on the session clock, microseconds, monotonic. */
  timestampUs: number;
  /** Landmarks [numLandmarks * 3] for this frame, or null when idle (no speech yet). */
  landmarks: Float32Array | null;
  /** Index into the avatar's pose track (idle head motion), or 0 when motion is off. */
  poseIndex: number;
  /** Eye-openness value for blinks, or null to use the avatar's own. */
  eye: number | null;
  /**
   * RMS level of the most recent mic audio in [0, 1]. Only placeholder sources use it; real
   * renderers are driven by `landmarks`.
   */
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

export interface LandmarkSource {
  readonly name: string;
  /** How far the landmarks lag the audio they come from (look-ahead + inference), in ms. */
  readonly latencyMs: number;
  /** Mic samples, mono float32, with the capture time of the first sample on the audio clock. */
  pushAudio(samples: Float32Array, sampleRate: number, timeSec: number): void;
  /** Landmarks for the frame presented at `timeSec`, or null when none are available. */
  landmarksAt(timeSec: number): Float32Array | null;
  /** RMS of the most recent audio, [0, 1]. */
  level(): number;
  /** Idempotent. */
  destroy(): void;
}
