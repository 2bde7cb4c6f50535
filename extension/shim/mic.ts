/**
 * The mic path. The real mic (captured by the real getUserMedia, audio only) is tapped with an
 * AudioWorklet for the engine and returned to the page through a DelayNode, so the voice the
 * far end hears waits for the face rendered from it. The returned track is masked to look
 * like the real mic (label, settings, capabilities, constraints forwarded to it).
 */
import { defineGetter, defineMethod, type Natives } from './natives.ts';

export type AudioChunkListener = (samples: Float32Array, sampleRate: number, timeSec: number) => void;

const MAX_DELAY_S = 1;
const WORKLET_NAME = 'r2talker-mic-tap';

export class MicRouter {
  private ctx: AudioContext | null = null;
  private delay: DelayNode | null = null;
  private ready: Promise<AudioContext> | null = null;
  private delayMs = 0;
  private listener: AudioChunkListener | null = null;
  private liveRoutes = 0;

  constructor(
    private readonly natives: Natives,
    private readonly workletUrl: () => string | null,
  ) {}

  /** The mic AudioContext's clock (seconds; the tap stamps chunks with it), or null before it runs. */
  audioNowSec(): number | null {
    const ctx = this.ctx;
    return ctx && ctx.state === 'running' ? ctx.currentTime : null;
  }

  /**
   * Frame timestamps (microseconds): the audio clock where the mic runs, so video and voice
   * share one time base; the page's performance clock before that. The audio clock is mapped
   * onto the performance clock's origin once, so switching never makes time run backwards
   * by more than the clocks drifted apart.
   */
  nowUs(): number {
    const audio = this.audioNowSec();
    if (audio === null) return performance.now() * 1000;
    this.clockBase ??= performance.now() / 1000 - audio;
    return Math.round((audio + this.clockBase) * 1e6);
  }

  private clockBase: number | null = null;

  /** How many routed mic captures are still running (their tap feeds the engine). */
  get live(): number {
    return this.liveRoutes;
  }

  onAudio(listener: AudioChunkListener | null): void {
    this.listener = listener;
  }

  /** Delay applied to the page's mic; ramped so changes do not click. */
  setDelayMs(ms: number): void {
    this.delayMs = Math.max(0, Math.min(MAX_DELAY_S * 1000, ms));
    const d = this.delay;
    if (d && this.ctx) d.delayTime.setTargetAtTime(this.delayMs / 1000, this.ctx.currentTime, 0.05);
  }

  /** Replaces the audio tracks of `stream` with delayed, masked copies. Falls back to the real tracks on failure. */
  async route(stream: MediaStream): Promise<MediaStream> {
    const real = stream.getAudioTracks()[0];
    if (!real) return stream;
    try {
      const ctx = await this.context();
      const source = ctx.createMediaStreamSource(new MediaStream([real]));
      const tap = new AudioWorkletNode(ctx, WORKLET_NAME, { numberOfInputs: 1, numberOfOutputs: 0 });
      tap.port.onmessage = (e: MessageEvent) => {
        const d = e.data as { samples?: unknown; sampleRate?: unknown; timeSec?: unknown };
        if (d.samples instanceof Float32Array && typeof d.sampleRate === 'number' && typeof d.timeSec === 'number') {
          this.listener?.(d.samples, d.sampleRate, d.timeSec);
        }
      };
      source.connect(tap);
      const delay = this.delay as DelayNode;
      source.connect(delay);
      const dest = ctx.createMediaStreamDestination();
      delay.connect(dest);
      const out = dest.stream.getAudioTracks()[0];
      const users = { count: 0 };
      this.liveRoutes++;
      let torn = false;
      const teardown = (): void => {
        if (torn) return;
        torn = true;
        this.liveRoutes--;
        source.disconnect();
        tap.port.onmessage = null;
        tap.port.close();
        delay.disconnect(dest);
        this.natives.trackStop.call(real);
      };
      this.mask(out, real, users, teardown);
      real.addEventListener('ended', () => {
        // The device went away: the copy must end the way the real track did.
        for (const t of dest.stream.getAudioTracks()) this.natives.trackStop.call(t);
        out.dispatchEvent(new Event('ended'));
        // No longer a live route: a later camera request may tap the mic privately again.
        teardown();
      });
      const routed = new MediaStream([out, ...stream.getVideoTracks()]);
      return routed;
    } catch (e) {
      console.warn('[R2 Talker] mic routing unavailable, passing the real mic through:', e);
      return stream;
    }
  }

  private context(): Promise<AudioContext> {
    this.ready ??= (async () => {
      const url = this.workletUrl();
      if (!url) throw new Error('no worklet URL from the extension');
      const ctx = new AudioContext({ latencyHint: 'interactive' });
      await ctx.audioWorklet.addModule(url);
      this.delay = ctx.createDelay(MAX_DELAY_S);
      this.delay.delayTime.value = this.delayMs / 1000;
      this.ctx = ctx;
      if (ctx.state !== 'running') {
        // Autoplay policy may start the context suspended; the first gesture resumes it.
        void ctx.resume();
        const resume = (): void => void ctx.resume();
        for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, resume, { capture: true, once: true });
      }
      return ctx;
    })();
    this.ready.catch(() => {
      this.ready = null;
    });
    return this.ready;
  }

  private mask(track: MediaStreamTrack, real: MediaStreamTrack, users: { count: number }, teardown: () => void): void {
    const n = this.natives;
    users.count++;
    let stopped = false;
    defineGetter(track, 'label', () => n.labelGetter.call(real));
    defineMethod(track, 'getSettings', () => n.trackGetSettings.call(real));
    defineMethod(track, 'getCapabilities', () => n.trackGetCapabilities.call(real));
    defineMethod(track, 'getConstraints', () => n.trackGetConstraints.call(real));
    defineMethod(track, 'applyConstraints', (c?: MediaTrackConstraints) => n.trackApplyConstraints.call(real, c));
    defineMethod(track, 'clone', () => {
      const copy = n.trackClone.call(track);
      this.mask(copy, real, users, teardown);
      return copy;
    });
    defineMethod(track, 'stop', () => {
      n.trackStop.call(track);
      if (stopped) return;
      stopped = true;
      users.count--;
      if (users.count === 0) teardown();
    });
  }
}
