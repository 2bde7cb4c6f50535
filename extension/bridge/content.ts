/**
 * ISOLATED-world content script: the shim's link to the extension. Reads settings from
 * chrome.storage, tells the shim, and wires each camera session's MessagePort between the
 * shim and the engine iframe. Runs in every frame at document_start.
 */
import { NAMESPACE, isShimToBridge, type BridgeToShim, type ShimConfig, type ShimToBridge } from '../protocol/shim-bridge.ts';
import type { EngineOptions, EngineToBridge } from '../protocol/bridge-engine.ts';
import { engineOptionsFrom, loadSettings, parseSettings, watchSettings, type Settings } from '../shared/settings.ts';
import { EngineFrame } from './engine-frame.ts';

const GUARD = Symbol.for('r2talker.bridge');
const scope = globalThis as unknown as Record<symbol, boolean>;

function toShim(msg: BridgeToShim, transfer: Transferable[] = []): void {
  window.postMessage(msg, '*', transfer);
}

function shimConfig(s: Settings): ShimConfig {
  return {
    enabled: s.enabled,
    output: s.output,
    lipSyncOffsetMs: s.lipSyncOffsetMs,
    micWorkletUrl: chrome.runtime.getURL('mic-tap.js'),
  };
}

function main(): void {
  let settings: Settings | null = null;
  let engine: EngineFrame | null = null;

  const sendConfig = (): void => {
    if (settings) toShim({ ns: NAMESPACE, dir: 'to-shim', kind: 'config', config: shimConfig(settings) });
  };

  const onEngine = (msg: EngineToBridge): void => {
    if (msg.kind === 'session-error') {
      toShim({ ns: NAMESPACE, dir: 'to-shim', kind: 'session-error', sessionId: msg.sessionId, message: msg.message });
    }
  };

  const getEngine = (): EngineFrame => {
    if (!engine) {
      engine = new EngineFrame(onEngine);
      if (settings) engine.send({ kind: 'options', options: engineOptionsFrom(settings) });
    }
    return engine;
  };

  const onShim = (msg: ShimToBridge): void => {
    switch (msg.kind) {
      case 'hello':
        sendConfig();
        return;
      case 'open-session': {
        if (!settings?.enabled) {
          toShim({ ns: NAMESPACE, dir: 'to-shim', kind: 'session-error', sessionId: msg.sessionId, message: 'R2 Talker is turned off' });
          return;
        }
        const channel = new MessageChannel();
        getEngine().send({ kind: 'open-session', sessionId: msg.sessionId, request: msg.request }, [channel.port1]);
        toShim({ ns: NAMESPACE, dir: 'to-shim', kind: 'session-port', sessionId: msg.sessionId }, [channel.port2]);
        return;
      }
      case 'close-session':
        engine?.send({ kind: 'close-session', sessionId: msg.sessionId });
        return;
    }
  };

  window.addEventListener('message', (e: MessageEvent) => {
    if (e.source !== window || !isShimToBridge(e.data)) return;
    onShim(e.data);
  });

  const apply = (s: Settings): void => {
    settings = s;
    sendConfig();
    engine?.send({ kind: 'options', options: engineOptionsFrom(s) });
  };
  watchSettings(apply);
  loadSettings().then(apply, () => apply(parseSettings(null)));
}

if (!scope[GUARD]) {
  scope[GUARD] = true;
  main();
}
