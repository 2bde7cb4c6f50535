/**
 * PLACEHOLDER frame source and level-only landmark source. Not the product: they exist so
 * the camera, transport and pacing can run end to end before the real renderer and the
 * audio -> landmarks pipeline are wired in. The card says so in its own pixels.
 */
import type { FrameRenderer, LandmarkSource, RenderInput, RenderedFrame } from './interfaces.ts';

export const PLACEHOLDER_WIDTH = 640;
export const PLACEHOLDER_HEIGHT = 360;

/** Draws a labelled test card: a moving bar (time) and a "mouth" bar (mic level). */
export class PlaceholderRenderer implements FrameRenderer {
  readonly name = 'placeholder';
  readonly isPlaceholder = true;
  private canvas: OffscreenCanvas | null;
  private ctx: OffscreenCanvasRenderingContext2D | null;

  constructor(readonly width = PLACEHOLDER_WIDTH, readonly height = PLACEHOLDER_HEIGHT) {
    this.canvas = new OffscreenCanvas(width, height);
    this.ctx = this.canvas.getContext('2d');
  }

  async render(input: RenderInput): Promise<RenderedFrame> {
    const canvas = this.canvas;
    const ctx = this.ctx;
    if (!canvas || !ctx) throw new Error('PlaceholderRenderer: render after destroy');
    const { width: w, height: h } = this;
    ctx.fillStyle = '#1d2733';
    ctx.fillRect(0, 0, w, h);
    // Head: a plain ellipse; the mouth opens with the mic level so the path is observable.
    ctx.fillStyle = '#c9a27e';
    ctx.beginPath();
    ctx.ellipse(w / 2, h * 0.45, h * 0.22, h * 0.3, 0, 0, Math.PI * 2);
    ctx.fill();
    const open = Math.min(1, input.audioLevel * 8);
    ctx.fillStyle = '#5a1f1f';
    ctx.fillRect(w / 2 - h * 0.08, h * 0.58, h * 0.16, 2 + open * h * 0.1);
    const t = input.timestampUs / 1e6;
    ctx.fillStyle = '#6fb1ff';
    ctx.fillRect(((t * 0.25) % 1) * (w - 40), h - 18, 40, 10);
    ctx.fillStyle = '#ffffff';
    ctx.font = `${Math.round(h / 18)}px sans-serif`;
    ctx.fillText('R2 Talker - placeholder source (renderer not connected)', 12, h / 14);
    return { kind: 'bitmap', bitmap: canvas.transferToImageBitmap() };
  }

  destroy(): void {
    this.canvas = null;
    this.ctx = null;
  }
}

/** Tracks the mic level only; never yields landmarks. */
export class LevelOnlyLandmarkSource implements LandmarkSource {
  readonly name = 'level-only';
  readonly latencyMs = 0;
  private rms = 0;

  pushAudio(samples: Float32Array): void {
    let sum = 0;
    const n = Math.min(samples.length, 48000);
    for (let i = 0; i < n; i++) sum += samples[i] * samples[i];
    const now = n > 0 ? Math.sqrt(sum / n) : 0;
    // Fast attack, slow release, like a VU meter, so single quiet chunks do not flicker.
    this.rms = now > this.rms ? now : this.rms * 0.8 + now * 0.2;
  }

  latestWindow(): null {
    return null;
  }

  level(): number {
    return Math.max(0, Math.min(1, this.rms));
  }

  destroy(): void {
    this.rms = 0;
  }
}
