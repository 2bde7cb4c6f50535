/**
 * The shim's side of the window.postMessage link to the ISOLATED bridge. The bound
 * postMessage/addEventListener are captured at document_start, before page scripts can
 * replace them.
 */
import { NAMESPACE, isBridgeToShim, type ShimConfig, type ShimToBridge, type SessionRequest } from '../protocol/shim-bridge.ts';

const SESSION_PORT_TIMEOUT_MS = 5000;

export class BridgeLink {
  private configValue: ShimConfig | null = null;
  private configWaiters: ((c: ShimConfig) => void)[] = [];
  private configListeners: ((c: ShimConfig, previous: ShimConfig | null) => void)[] = [];
  private readonly portWaiters = new Map<string, { resolve: (p: MessagePort) => void; reject: (e: Error) => void }>();
  private readonly errorListeners = new Map<string, (message: string) => void>();
  private readonly post = window.postMessage.bind(window);

  constructor() {
    window.addEventListener('message', (e: MessageEvent) => {
      if (e.source !== window || !isBridgeToShim(e.data)) return;
      const msg = e.data;
      switch (msg.kind) {
        case 'config': {
          const previous = this.configValue;
          this.configValue = msg.config;
          const waiters = this.configWaiters;
          this.configWaiters = [];
          for (const w of waiters) w(msg.config);
          for (const l of this.configListeners) l(msg.config, previous);
          break;
        }
        case 'session-port': {
          const port = e.ports[0];
          const waiter = this.portWaiters.get(msg.sessionId);
          if (!waiter || !port) return;
          this.portWaiters.delete(msg.sessionId);
          waiter.resolve(port);
          break;
        }
        case 'session-error': {
          const waiter = this.portWaiters.get(msg.sessionId);
          if (waiter) {
            this.portWaiters.delete(msg.sessionId);
            waiter.reject(new Error(msg.message));
          }
          this.errorListeners.get(msg.sessionId)?.(msg.message);
          break;
        }
      }
    });
    this.send({ ns: NAMESPACE, dir: 'to-bridge', kind: 'hello' });
  }

  get config(): ShimConfig | null {
    return this.configValue;
  }

  onConfig(cb: (c: ShimConfig, previous: ShimConfig | null) => void): void {
    this.configListeners.push(cb);
  }

  /** The bridge's config, or null when none arrives in time (extension context gone). */
  waitConfig(timeoutMs: number): Promise<ShimConfig | null> {
    if (this.configValue) return Promise.resolve(this.configValue);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.configValue), timeoutMs);
      this.configWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  openSession(sessionId: string, request: SessionRequest, onError: (message: string) => void): Promise<MessagePort> {
    this.errorListeners.set(sessionId, onError);
    return new Promise<MessagePort>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.portWaiters.delete(sessionId);
        reject(new Error('the extension did not answer'));
      }, SESSION_PORT_TIMEOUT_MS);
      this.portWaiters.set(sessionId, {
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.send({ ns: NAMESPACE, dir: 'to-bridge', kind: 'open-session', sessionId, request });
    });
  }

  closeSession(sessionId: string): void {
    this.errorListeners.delete(sessionId);
    this.portWaiters.delete(sessionId);
    this.send({ ns: NAMESPACE, dir: 'to-bridge', kind: 'close-session', sessionId });
  }

  private send(msg: ShimToBridge): void {
    this.post(msg, '*');
  }
}

export function newSessionId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `s${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}
