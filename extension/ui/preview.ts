/**
 * The popup's live preview: the same engine a page's camera uses (engine.html in a hidden
 * iframe, its workers, one session) with the popup in the shim's place: it draws each frame
 * on a canvas and, once the user asks, feeds it the mic. It starts idle (blinks, head motion)
 * as soon as the popup opens, so the chosen avatar is visible without a mic prompt. The
 * engine is told it is a preview, so it publishes no camera status. Stopping closes the
 * session (the engine stops rendering) and releases the mic.
 */
import { isEngineToBridge, type BridgeToEngine, type EngineOptions, type EngineToBridge } from '../protocol/bridge-engine.ts';
import type { EngineStatus } from '../../worker/engine/protocol/engine-worker.ts';
import { isEngineToShim, type EngineToShim, type ShimToEngine } from '../../worker/engine/protocol/session.ts';
import { engineOptionsFrom, type Settings } from '../shared/settings.ts';
import { BACKEND_NAMES, describeQuality, describeThreads } from './engine-status.ts';
import { PreviewMic, describeMicError } from './preview-mic.ts';

/** The preview needs new renders, not a camera's rate: repeats cost work and show nothing new. */
export const PREVIEW_FRAME_RATE = 15;
const STATUS_EVERY_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;

export const previewEngineOptions = engineOptionsFrom;

/** One line about the preview engine, from its status. */
export function describePreview(s: EngineStatus, micProblem: string | null, micOn = true): string {
  if (s.sessions === 0) return 'Preview stopped.';
  const fps = Number.isFinite(s.renderFps) ? s.renderFps.toFixed(1) : '0';
  const voice = micProblem ? 'no microphone' : !micOn ? 'idle' : s.micIdleSec === null ? 'waiting for the microphone' : 'driven by your microphone';
  const mode = s.qualityState ? `, ${describeQuality(s.qualityState)}` : '';
  return `Preview: ${s.avatar ?? 'avatar'} on ${BACKEND_NAMES[s.source] ?? s.source}${describeThreads(s.qualityState ?? undefined)}, ${fps} renders/s${mode}, ${voice}.`;
}

export interface PreviewElements {
  canvas: HTMLCanvasElement;
  /** Status line (what runs). */
  status: HTMLElement;
  /** Problems (mic refused, engine errors). */
  problem: HTMLElement;
}

export class LivePreview {
  private iframe: HTMLIFrameElement | null = null;
  private control: MessagePort | null = null;
  private connected: Promise<MessagePort> | null = null;
  private session: MessagePort | null = null;
  private sessionId: string | null = null;
  private mic: PreviewMic | null = null;
  private micProblem: string | null = null;
  private statusTimer: ReturnType<typeof setInterval> | null = null;
  private frames = 0;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly el: PreviewElements) {
    const ctx = el.canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('preview canvas: no 2d context');
    this.ctx = ctx;
  }

  get running(): boolean {
    return this.session !== null;
  }

  get micOn(): boolean {
    return this.mic !== null;
  }

  /** Opens the engine session: the avatar idles until `startMic`. */
  async start(settings: Settings): Promise<void> {
    if (this.session) return;
    this.micProblem = null;
    this.el.problem.textContent = '';
    this.el.status.textContent = 'Starting the preview...';
    const control = await this.connect();
    control.postMessage({ kind: 'options', options: previewEngineOptions(settings) } satisfies BridgeToEngine);
    const channel = new MessageChannel();
    const id = `preview-${Date.now().toString(36)}`;
    this.sessionId = id;
    this.session = channel.port2;
    channel.port2.onmessage = (e: MessageEvent) => this.onFrameMessage(e.data);
    channel.port2.start();
    const { width, height } = this.el.canvas;
    control.postMessage(
      { kind: 'open-session', sessionId: id, request: { width, height, frameRate: PREVIEW_FRAME_RATE, transport: 'bitmap' } } satisfies BridgeToEngine,
      [channel.port1],
    );
    this.statusTimer = setInterval(() => control.postMessage({ kind: 'status-request' } satisfies BridgeToEngine), STATUS_EVERY_MS);
  }

  /** Feeds the running session the microphone; a refusal is shown and the avatar keeps idling. */
  async startMic(): Promise<void> {
    if (!this.session || this.mic) return;
    this.micProblem = null;
    this.el.problem.textContent = '';
    const mic = new PreviewMic();
    this.mic = mic;
    try {
      await mic.start(
        (samples, sampleRate, timeSec) => this.send({ kind: 'audio', samples, sampleRate, timeSec }, [samples.buffer]),
        () => this.showMicProblem('The microphone ended: the preview idles.'),
      );
    } catch (e) {
      mic.stop();
      if (this.mic === mic) {
        this.mic = null;
        this.showMicProblem(describeMicError(e));
      }
    }
  }

  /** Releases the microphone; the avatar goes back to idling. */
  stopMic(): void {
    this.mic?.stop();
    this.mic = null;
    this.micProblem = null;
  }

  setOptions(settings: Settings): void {
    this.control?.postMessage({ kind: 'options', options: previewEngineOptions(settings) } satisfies BridgeToEngine);
  }

  /** Closes the session and releases the mic; the engine iframe stays for a quick restart. */
  stop(): void {
    this.mic?.stop();
    this.mic = null;
    if (this.statusTimer !== null) clearInterval(this.statusTimer);
    this.statusTimer = null;
    if (this.session) {
      this.session.postMessage({ kind: 'close' } satisfies ShimToEngine);
      this.session.onmessage = null;
      this.session.close();
      this.session = null;
    }
    if (this.sessionId && this.control) {
      this.control.postMessage({ kind: 'close-session', sessionId: this.sessionId } satisfies BridgeToEngine);
      // Confirms to the user (and tests) that the engine really stopped.
      this.control.postMessage({ kind: 'status-request' } satisfies BridgeToEngine);
    }
    this.sessionId = null;
  }

  /** Stops and removes the engine (popup closing). */
  destroy(): void {
    this.stop();
    this.control?.close();
    this.control = null;
    this.connected = null;
    this.iframe?.remove();
    this.iframe = null;
  }

  private showMicProblem(text: string): void {
    this.micProblem = text;
    this.el.problem.textContent = text;
  }

  private send(msg: ShimToEngine, transfer: Transferable[] = []): void {
    this.session?.postMessage(msg, transfer);
  }

  private connect(): Promise<MessagePort> {
    this.connected ??= new Promise<MessagePort>((resolve, reject) => {
      const iframe = document.createElement('iframe');
      iframe.src = 'engine.html';
      iframe.hidden = true;
      iframe.setAttribute('aria-hidden', 'true');
      iframe.tabIndex = -1;
      const timer = setTimeout(() => reject(new Error('the preview engine did not start')), CONNECT_TIMEOUT_MS);
      iframe.addEventListener('load', () => {
        const win = iframe.contentWindow;
        if (!win) return;
        const channel = new MessageChannel();
        channel.port1.onmessage = (e: MessageEvent) => {
          if (!isEngineToBridge(e.data)) return;
          if (e.data.kind === 'ready') {
            clearTimeout(timer);
            this.control = channel.port1;
            resolve(channel.port1);
          }
          this.onControlMessage(e.data);
        };
        channel.port1.start();
        win.postMessage({ kind: 'connect', preview: true } satisfies BridgeToEngine, location.origin, [channel.port2]);
      });
      document.body.appendChild(iframe);
      this.iframe = iframe;
    });
    this.connected.catch(() => {
      this.connected = null;
    });
    return this.connected;
  }

  private onControlMessage(msg: EngineToBridge): void {
    switch (msg.kind) {
      case 'status':
        this.el.status.textContent = describePreview(msg.status, this.micProblem, this.mic !== null || this.micProblem !== null);
        this.el.canvas.dataset.engineSessions = String(msg.status.sessions);
        if (msg.status.problem && !this.micProblem) this.el.problem.textContent = msg.status.problem;
        return;
      case 'session-error':
        if (msg.sessionId === this.sessionId) this.el.problem.textContent = `The preview could not start: ${msg.message}`;
        return;
      case 'ready':
        return;
    }
  }

  private onFrameMessage(data: unknown): void {
    if (!isEngineToShim(data)) return;
    const msg: EngineToShim = data;
    switch (msg.kind) {
      case 'frame': {
        const { canvas } = this.el;
        const p = msg.pixels;
        if (p.type === 'bitmap') {
          this.ctx.drawImage(p.bitmap, 0, 0, canvas.width, canvas.height);
          p.bitmap.close();
        } else if (p.width === canvas.width && p.height === canvas.height) {
          this.ctx.putImageData(new ImageData(new Uint8ClampedArray(p.data), p.width, p.height), 0, 0);
        }
        this.frames++;
        canvas.dataset.frames = String(this.frames);
        this.send({ kind: 'ack', seq: msg.seq });
        return;
      }
      case 'repeat':
        this.send({ kind: 'ack', seq: msg.seq });
        return;
      case 'stats':
        return;
      case 'error':
        this.el.problem.textContent = `The preview failed: ${msg.message}`;
        return;
    }
  }
}
