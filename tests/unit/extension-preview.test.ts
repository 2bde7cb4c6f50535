import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineStatus } from '../../worker/engine/protocol/engine-worker.ts';
import { isBridgeToEngine, isEngineToBridge } from '../../extension/protocol/bridge-engine.ts';
import { DEFAULT_SETTINGS } from '../../extension/shared/settings.ts';
import { describeMicError } from '../../extension/ui/preview-mic.ts';
import { describePreview, previewEngineOptions } from '../../extension/ui/preview.ts';

const status = (patch: Partial<EngineStatus>): EngineStatus => ({
  source: 'cpu-reference', avatar: 'Demo head', adapter: null, gpuProblem: null, problem: null, sessions: 1, renderFps: 6.25,
  lagMs: null, micDelayMs: null, gpuRecoveries: 0, gpuBytes: 0, micIdleSec: 0.1, ...patch,
});

describe('popup preview wording', () => {
  it('a refused microphone says so, says the preview idles and how to allow it', () => {
    const text = describeMicError(new DOMException('Permission denied', 'NotAllowedError'));
    expect(text).toBe('Microphone not allowed (Permission denied): the preview idles. Allow the microphone for R2 Talker (All settings > Allow microphone) to see the avatar talk.');
  });

  it('a missing, busy or unknown microphone failure is named and the preview idles', () => {
    expect(describeMicError(new DOMException('', 'NotFoundError'))).toBe('No microphone found: the preview idles.');
    expect(describeMicError(new DOMException('Could not start audio source', 'NotReadableError'))).toBe('The microphone is busy or failed (Could not start audio source): the preview idles.');
    expect(describeMicError('weird')).toBe('The microphone could not start (weird): the preview idles.');
  });

  it('the status line names avatar, renderer, render rate and whether the mic drives it', () => {
    expect(describePreview(status({}), null)).toBe('Preview: Demo head on CPU (no GPU), 6.3 renders/s, driven by your microphone.');
    expect(describePreview(status({ micIdleSec: null }), null)).toBe('Preview: Demo head on CPU (no GPU), 6.3 renders/s, waiting for the microphone.');
    expect(describePreview(status({}), 'Microphone not allowed')).toBe('Preview: Demo head on CPU (no GPU), 6.3 renders/s, no microphone.');
    // Before the user asks for the microphone the avatar idles, whatever the engine heard.
    expect(describePreview(status({}), null, false)).toBe('Preview: Demo head on CPU (no GPU), 6.3 renders/s, idle.');
    expect(describePreview(status({ source: 'webgpu' }), null, false)).toBe('Preview: Demo head on WebGPU, 6.3 renders/s, idle.');
    expect(describePreview(status({ sessions: 0 }), null)).toBe('Preview stopped.');
    const fast = { mode: 'auto' as const, quality: 'fast' as const, reason: 'fast-faster' as const, exactMs: 160, fastMs: 70, budgetMs: 40 };
    expect(describePreview(status({ qualityState: fast }), null, false)).toBe('Preview: Demo head on CPU (no GPU), 6.3 renders/s, fast mode (exact takes 160 ms a frame, over the 40 ms budget; fast mode 70 ms), idle.');
  });

  it('the preview asks the engine for the avatar and renderer the settings choose', () => {
    const s = { ...DEFAULT_SETTINGS, avatarId: 'abc', renderer: 'cpu' as const, renderMaxSide: 64, idleBlinks: false };
    expect(previewEngineOptions(s)).toEqual({ avatarId: 'abc', idleBlinks: false, idleHeadMotion: true, backend: 'cpu', renderMaxSide: 64, quality: 'auto', cpuThreads: 0 });
  });
});

describe('preview protocol additions', () => {
  it('connect accepts an optional boolean preview flag and rejects other values', () => {
    expect(isBridgeToEngine({ kind: 'connect' })).toBe(true);
    expect(isBridgeToEngine({ kind: 'connect', preview: true })).toBe(true);
    expect(isBridgeToEngine({ kind: 'connect', preview: 'yes' })).toBe(false);
    expect(isBridgeToEngine({ kind: 'status-request' })).toBe(true);
  });

  it('a status answer must carry a status with sessions and renderFps', () => {
    expect(isEngineToBridge({ kind: 'status', status: status({}) })).toBe(true);
    expect(isEngineToBridge({ kind: 'status', status: { sessions: '1' } })).toBe(false);
    expect(isEngineToBridge({ kind: 'status' })).toBe(false);
  });
});

/** All .ts files under `dir`, bounded (the tree is small). */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts')) out.push(p);
    if (out.length > 500) throw new Error(`${dir}: more than 500 files`);
  }
  return out;
}

describe('frame pacing in background tabs', () => {
  it('no engine or shim code uses requestAnimationFrame or page visibility (both stop or change in hidden tabs)', () => {
    const root = path.resolve(import.meta.dirname, '../../extension');
    const files = [...sources(path.join(root, 'engine')), ...sources(path.join(root, 'shim'))];
    expect(files.length).toBeGreaterThan(10);
    const offenders: string[] = [];
    for (const f of files) {
      // Comments may explain why it is avoided; code may not use it.
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      if (/requestAnimationFrame|visibilityState|document\.hidden|visibilitychange/.test(code)) offenders.push(path.relative(root, f));
    }
    expect(offenders).toEqual([]);
  });
});
