/**
 * The voice path of a talking head: the input audio track is tapped (AudioWorklet, ~20 ms
 * chunks stamped with the AudioContext clock) for the engine, and the same audio leaves
 * through a DelayNode so the far end hears each instant together with the face made from
 * it. The delay follows the lip-sync meter shared with the extension (worker/engine/sync.ts).
 */
import { SyncMeter } from '../worker/engine/sync.ts';

const MAX_DELAY_S = 1;
const WORKLET_NAME = 'r2talker-mic-tap';
/** How often a new measured delay may be applied (a moving delay resamples the voice). */
const APPLY_EVERY_MS = 1000;

export type AudioChunk = (samples: Float32Array, sampleRate: number, timeSec: number) => void;

export class VoicePath {
  readonly output: MediaStreamTrack;
  private readonly meter = new SyncMeter();
  private appliedMs: number;
  private lastApplyAt = -Infinity;
  private clockBase: number | null = null;
  private closed = false;

  private constructor(
    private readonly ctx: AudioContext,
    private readonly source: MediaStreamAudioSourceNode,
    private readonly tap: AudioWorkletNode,
    private readonly delay: DelayNode,
    private readonly dest: MediaStreamAudioDestinationNode,
    private readonly offsetMs: number,
  ) {
    this.output = dest.stream.getAudioTracks()[0]!;
    this.appliedMs = Math.max(0, this.meter.appliedMs + offsetMs);
    delay.delayTime.value = this.appliedMs / 1000;
  }

  static async start(input: MediaStreamTrack, workletUrl: URL, offsetMs: number, onChunk: AudioChunk): Promise<VoicePath> {
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    try {
      await ctx.audioWorklet.addModule(workletUrl.href);
      const source = ctx.createMediaStreamSource(new MediaStream([input]));
      const tap = new AudioWorkletNode(ctx, WORKLET_NAME, { numberOfInputs: 1, numberOfOutputs: 0 });
      tap.port.onmessage = (e: MessageEvent) => {
        const d = e.data as { samples?: unknown; sampleRate?: unknown; timeSec?: unknown };
        if (d.samples instanceof Float32Array && typeof d.sampleRate === 'number' && typeof d.timeSec === 'number') onChunk(d.samples, d.sampleRate, d.timeSec);
      };
      const delay = ctx.createDelay(MAX_DELAY_S);
      const dest = ctx.createMediaStreamDestination();
      source.connect(tap);
      source.connect(delay);
      delay.connect(dest);
      // A context made without a user gesture may start suspended; the app's next gesture resumes it.
      if (ctx.state !== 'running') void ctx.resume();
      return new VoicePath(ctx, source, tap, delay, dest, offsetMs);
    } catch (e) {
      void ctx.close();
      throw e;
    }
  }

  /** The audio clock (seconds) or null while the context is not running. */
  audioNowSec(): number | null {
    return this.ctx.state === 'running' ? this.ctx.currentTime : null;
  }

  /**
   * Frame timestamps (µs) on the audio clock mapped onto the performance clock's origin once,
   * so video and voice share one time base and time never runs backwards.
   */
  nowUs(): number {
    const audio = this.audioNowSec();
    if (audio === null) return Math.round(performance.now() * 1000);
    this.clockBase ??= performance.now() / 1000 - audio;
    return Math.round((audio + this.clockBase) * 1e6);
  }

  /** A frame showing the voice at `audioTimeSec` was just written. */
  onContent(audioTimeSec: number): void {
    const now = this.audioNowSec();
    if (now === null || this.closed) return;
    this.meter.push(audioTimeSec, now);
    const t = performance.now();
    if (t - this.lastApplyAt < APPLY_EVERY_MS) return;
    this.lastApplyAt = t;
    if (this.meter.nextDelayMs() === null) return;
    this.appliedMs = Math.max(0, Math.min(MAX_DELAY_S * 1000, this.meter.appliedMs + this.offsetMs));
    // A short ramp: an instant jump of the delay line clicks.
    this.delay.delayTime.setTargetAtTime(this.appliedMs / 1000, this.ctx.currentTime, 0.05);
  }

  /** Median measured audio -> face latency (ms) and the delay applied to the voice (ms). */
  sync(): { lagMs: number | null; delayMs: number } {
    return { lagMs: this.meter.lagMs(), delayMs: this.appliedMs };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tap.port.onmessage = null;
    this.tap.port.close();
    this.source.disconnect();
    this.delay.disconnect();
    this.output.stop();
    for (const t of this.dest.stream.getTracks()) t.stop();
    await this.ctx.close().catch(() => undefined);
  }
}
