/**
 * The hidden engine iframe, created on the first camera session of a page. Messages sent
 * before it has connected are queued (bounded) and flushed on `ready`.
 */
import { isEngineToBridge, type BridgeToEngine, type EngineToBridge } from '../protocol/bridge-engine.ts';

const MAX_PENDING = 32;

export class EngineFrame {
  private iframe: HTMLIFrameElement | null = null;
  private control: MessagePort | null = null;
  private ready = false;
  private pending: { msg: BridgeToEngine; transfer: Transferable[] }[] = [];

  constructor(private readonly onMessage: (msg: EngineToBridge) => void) {}

  send(msg: BridgeToEngine, transfer: Transferable[] = []): void {
    this.ensure();
    if (this.ready && this.control) {
      this.control.postMessage(msg, transfer);
      return;
    }
    if (this.pending.length >= MAX_PENDING) {
      const dropped = this.pending.shift();
      for (const t of dropped?.transfer ?? []) if (t instanceof MessagePort) t.close();
    }
    this.pending.push({ msg, transfer });
  }

  /** Creates (or re-creates, if the page removed it) the iframe. */
  private ensure(): void {
    if (this.iframe?.isConnected) return;
    this.control?.close();
    this.control = null;
    this.ready = false;
    const iframe = document.createElement('iframe');
    iframe.src = chrome.runtime.getURL('engine.html');
    iframe.setAttribute('aria-hidden', 'true');
    iframe.tabIndex = -1;
    iframe.style.cssText = 'display:none!important';
    iframe.allow = 'microphone; camera';
    // Cross-origin isolated pages (COEP) refuse a child without CORP; a credentialless
    // iframe is exempt. Elsewhere a normal iframe keeps first-party extension storage.
    if (window.crossOriginIsolated) (iframe as HTMLIFrameElement & { credentialless: boolean }).credentialless = true;
    iframe.addEventListener('load', () => this.connect(iframe));
    (document.body ?? document.documentElement).appendChild(iframe);
    this.iframe = iframe;
  }

  private connect(iframe: HTMLIFrameElement): void {
    const win = iframe.contentWindow;
    if (!win || iframe !== this.iframe) return;
    const channel = new MessageChannel();
    this.control = channel.port1;
    channel.port1.onmessage = (e: MessageEvent) => {
      if (!isEngineToBridge(e.data)) return;
      if (e.data.kind === 'ready') {
        this.ready = true;
        const queued = this.pending;
        this.pending = [];
        for (const q of queued) channel.port1.postMessage(q.msg, q.transfer);
      }
      this.onMessage(e.data);
    };
    channel.port1.start();
    // '*' because use_dynamic_url gives the frame a per-session URL; the only window that
    // could receive this is the iframe we created, and the port grants nothing the page
    // (which owns the MAIN world) could not already see.
    win.postMessage({ kind: 'connect' } satisfies BridgeToEngine, '*', [channel.port2]);
  }
}
