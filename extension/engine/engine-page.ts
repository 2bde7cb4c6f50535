/**
 * The engine iframe's page script. Accepts one control port from the bridge (the frame's
 * parent), starts the engine worker and relays session ports to it. It renders nothing
 * itself: the iframe is hidden and may be throttled, the worker is not.
 */
import * as Comlink from 'comlink';
import { isBridgeToEngine, type BridgeToEngine, type EngineToBridge } from '../protocol/bridge-engine.ts';
import type { EngineWorkerApi } from '../protocol/engine-worker.ts';
import { isSessionRequest } from '../protocol/shim-bridge.ts';

let control: MessagePort | null = null;
let engine: Comlink.Remote<EngineWorkerApi> | null = null;

function getEngine(): Comlink.Remote<EngineWorkerApi> {
  engine ??= Comlink.wrap<EngineWorkerApi>(new Worker(new URL('engine-worker.js', location.href)));
  return engine;
}

function reply(msg: EngineToBridge): void {
  control?.postMessage(msg);
}

async function handle(msg: BridgeToEngine, ports: readonly MessagePort[]): Promise<void> {
  switch (msg.kind) {
    case 'connect':
      return; // only valid as the first message, handled in onWindowMessage
    case 'options':
      await getEngine().setOptions(msg.options);
      return;
    case 'open-session': {
      const port = ports[0];
      try {
        if (!port) throw new Error('open-session without a port');
        if (!isSessionRequest(msg.request)) throw new Error('open-session: malformed request');
        await getEngine().openSession(msg.sessionId, msg.request, Comlink.transfer(port, [port]));
      } catch (e) {
        reply({ kind: 'session-error', sessionId: msg.sessionId, message: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    case 'close-session':
      await getEngine().closeSession(msg.sessionId);
      return;
  }
}

function onWindowMessage(e: MessageEvent): void {
  // Only our parent (the bridge's frame) may connect, and only once.
  if (control || e.source !== window.parent || !isBridgeToEngine(e.data) || e.data.kind !== 'connect') return;
  const port = e.ports[0];
  if (!port) return;
  control = port;
  window.removeEventListener('message', onWindowMessage);
  port.onmessage = (ev: MessageEvent) => {
    if (isBridgeToEngine(ev.data)) void handle(ev.data, ev.ports);
  };
  port.start();
  reply({ kind: 'ready' });
}

window.addEventListener('message', onWindowMessage);
