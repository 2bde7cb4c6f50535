/**
 * The engine iframe's page script. Accepts one control port from the bridge (the frame's
 * parent), loads the chosen avatar's bytes, starts the engine worker and relays session
 * ports to it, and publishes the engine's status for the popup. It renders nothing itself:
 * the iframe is hidden and may be throttled, the worker is not.
 */
import * as Comlink from 'comlink';
import { isBridgeToEngine, type BridgeToEngine, type EngineToBridge } from '../protocol/bridge-engine.ts';
import { isEngineCommand } from '../protocol/background.ts';
import type { EngineStatus, EngineWorkerApi } from '../../worker/engine/protocol/engine-worker.ts';
import { isSessionRequest } from '../protocol/shim-bridge.ts';
import { STATUS_KEY, type PublishedStatus } from '../shared/status.ts';
import { loadAvatar } from './avatar-loader.ts';

const STATUS_EVERY_MS = 2000;

let control: MessagePort | null = null;
let engine: Comlink.Remote<EngineWorkerApi> | null = null;
let avatarId: string | null | undefined;
/** Messages are handled one at a time, so an avatar is loaded before the session that needs it opens. */
let queue: Promise<void> = Promise.resolve();
let statusTimer: ReturnType<typeof setInterval> | null = null;
/** The popup's preview engine: its session is not a page's camera, so it publishes nothing. */
let preview = false;

function getEngine(): Comlink.Remote<EngineWorkerApi> {
  engine ??= Comlink.wrap<EngineWorkerApi>(new Worker(new URL('engine-worker.js', location.href)));
  return engine;
}

function reply(msg: EngineToBridge): void {
  control?.postMessage(msg);
}

async function publish(status: EngineStatus): Promise<void> {
  if (preview) return;
  const value: PublishedStatus = { ...status, updatedAt: Date.now() };
  try {
    await chrome.storage.local.set({ [STATUS_KEY]: value });
  } catch {
    // Status is informative only.
  }
}

function watchStatus(): void {
  if (statusTimer !== null) return;
  statusTimer = setInterval(() => {
    void getEngine()
      .status()
      .then(async (s) => {
        await publish(s);
        if (s.sessions === 0 && statusTimer !== null) {
          clearInterval(statusTimer);
          statusTimer = null;
        }
      });
  }, STATUS_EVERY_MS);
}

async function handle(msg: BridgeToEngine, ports: readonly MessagePort[]): Promise<void> {
  switch (msg.kind) {
    case 'connect':
      return; // only valid as the first message, handled in onWindowMessage
    case 'options': {
      if (msg.options.avatarId !== avatarId) {
        avatarId = msg.options.avatarId;
        const payload = await loadAvatar(avatarId);
        await publish(await getEngine().setAvatar(payload));
      }
      await getEngine().setOptions(msg.options);
      return;
    }
    case 'open-session': {
      const port = ports[0];
      try {
        if (!port) throw new Error('open-session without a port');
        if (!isSessionRequest(msg.request)) throw new Error('open-session: malformed request');
        await getEngine().openSession(msg.sessionId, msg.request, Comlink.transfer(port, [port]));
        watchStatus();
        void getEngine().status().then(publish);
      } catch (e) {
        reply({ kind: 'session-error', sessionId: msg.sessionId, message: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    case 'close-session':
      await getEngine().closeSession(msg.sessionId);
      return;
    case 'status-request':
      reply({ kind: 'status', status: await getEngine().status() });
      return;
  }
}

function onWindowMessage(e: MessageEvent): void {
  // Only our parent (the bridge's frame) may connect, and only once.
  if (control || e.source !== window.parent || !isBridgeToEngine(e.data) || e.data.kind !== 'connect') return;
  const port = e.ports[0];
  if (!port) return;
  control = port;
  preview = e.data.preview === true;
  window.removeEventListener('message', onWindowMessage);
  port.onmessage = (ev: MessageEvent) => {
    if (!isBridgeToEngine(ev.data)) return;
    const data = ev.data;
    const ports = ev.ports;
    queue = queue.then(() => handle(data, ports)).catch((err: unknown) => console.warn('[R2 Talker] engine:', err));
  };
  port.start();
  reply({ kind: 'ready' });
}

window.addEventListener('message', onWindowMessage);

// Test hook, reachable only from the extension's own contexts (the service worker).
chrome.runtime.onMessage.addListener((message, sender) => {
  if (sender.id !== chrome.runtime.id || sender.tab || !isEngineCommand(message)) return false;
  void getEngine().loseDevice();
  return false;
});
