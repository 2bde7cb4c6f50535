/**
 * The popup preview's microphone: the real mic from getUserMedia, tapped by the same
 * AudioWorklet the page shim uses, never played back (no echo). The extension origin asks
 * for the mic once; a refusal is explained in words and the preview idles without it.
 */

export type MicChunk = (samples: Float32Array, sampleRate: number, timeSec: number) => void;

const WORKLET_NAME = 'r2talker-mic-tap';

/** What the user reads when the mic cannot feed the preview (a getUserMedia rejection). */
export function describeMicError(e: unknown): string {
  const name = e instanceof DOMException || e instanceof Error ? e.name : '';
  const detail = e instanceof Error && e.message ? ` (${e.message})` : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Microphone not allowed${detail}: the preview idles. Allow the microphone for R2 Talker (All settings > Allow microphone) to see the avatar talk.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No microphone found${detail}: the preview idles.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The microphone is busy or failed${detail}: the preview idles.`;
    default:
      return `The microphone could not start${detail || ` (${String(e)})`}: the preview idles.`;
  }
}

export class PreviewMic {
  private stream: MediaStream | null = null;
  private ctx: AudioContext | null = null;
  private tap: AudioWorkletNode | null = null;
  private stopped = false;

  /** Resolves once the tap runs; rejects with the getUserMedia/worklet error. `onEnded` fires if the mic goes away. */
  async start(onChunk: MicChunk, onEnded: () => void): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    if (this.stopped) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    this.stream = stream;
    const track = stream.getAudioTracks()[0];
    if (!track) throw new DOMException('the microphone stream has no audio track', 'NotFoundError');
    track.addEventListener('ended', onEnded);
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    this.ctx = ctx;
    try {
      // Relative, not chrome.runtime.getURL: that gives the per-session dynamic URL of a
      // web-accessible resource, another origin to this cross-origin isolated page.
      await ctx.audioWorklet.addModule(new URL('mic-tap.js', location.href).href);
    } catch (e) {
      throw new Error(`the microphone tap did not load: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.stopped) return;
    const source = ctx.createMediaStreamSource(stream);
    const tap = new AudioWorkletNode(ctx, WORKLET_NAME, { numberOfInputs: 1, numberOfOutputs: 0 });
    tap.port.onmessage = (e: MessageEvent) => {
      const d = e.data as { samples?: unknown; sampleRate?: unknown; timeSec?: unknown };
      if (d.samples instanceof Float32Array && typeof d.sampleRate === 'number' && typeof d.timeSec === 'number') onChunk(d.samples, d.sampleRate, d.timeSec);
    };
    source.connect(tap);
    this.tap = tap;
    if (ctx.state !== 'running') await ctx.resume();
  }

  /** Releases the mic (the browser's mic indicator goes off). Idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.tap) {
      this.tap.port.onmessage = null;
      this.tap.disconnect();
      this.tap = null;
    }
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
  }
}
