import { describe, expect, it } from 'vitest';
import { describeStatus, STALE_AFTER_MS } from '../../extension/ui/engine-status.ts';
import type { PublishedStatus } from '../../extension/shared/status.ts';
import type { QualityState } from '../../worker/engine/quality-governor.ts';

const NOW = 1_000_000;
const live: PublishedStatus = {
  source: 'webgpu',
  avatar: 'Demo head',
  adapter: 'SwiftShader (software)',
  gpuProblem: null,
  problem: null,
  sessions: 1,
  renderFps: 4.26,
  lagMs: 180.4,
  micDelayMs: 230.2,
  micIdleSec: 0.1,
  gpuRecoveries: 0,
  gpuBytes: 0,
  updatedAt: NOW - 500,
};

describe('the popup status line', () => {
  it('names avatar, renderer, render rate and lip-sync figures when all is well, with no problems', () => {
    const v = describeStatus(live, NOW);
    expect(v.summary).toBe('Live: Demo head on WebGPU, SwiftShader (software), 4.3 renders/s, 1 camera track. Lip sync: face 180 ms behind the voice, voice delayed 230 ms.');
    expect(v.problems).toEqual([]);
  });

  it('says the camera is unused for a missing or malformed status', () => {
    expect(describeStatus(undefined, NOW).summary).toBe('The camera has not been used yet.');
    expect(describeStatus({ source: 1 }, NOW).summary).toBe('The camera has not been used yet.');
  });

  it('treats a status older than the publication period as no engine running, keeping the last problem', () => {
    const v = describeStatus({ ...live, problem: 'The chosen avatar is no longer stored.', updatedAt: NOW - STALE_AFTER_MS - 1 }, NOW);
    expect(v.summary).toBe('No page is using the camera.');
    expect(v.problems).toEqual(['Last time: The chosen avatar is no longer stored.']);
  });

  it('reports the CPU fallback with the reason WebGPU is unavailable', () => {
    const v = describeStatus({ ...live, source: 'cpu-reference', adapter: null, gpuProblem: 'GPU_UNAVAILABLE: navigator.gpu is missing' }, NOW);
    expect(v.summary).toMatch(/^Live: Demo head on CPU \(no GPU\), /);
    expect(v.problems).toEqual(['No WebGPU (GPU_UNAVAILABLE: navigator.gpu is missing): rendering on the CPU, small and slow.']);
  });

  it('says how many threads render on the CPU, and why extra render threads stopped', () => {
    const q: QualityState = { mode: 'auto', quality: 'fast', reason: 'fast-faster', exactMs: 60, fastMs: 12, budgetMs: 40 };
    const cpu = { ...live, source: 'cpu-reference', adapter: 'WebAssembly SIMD', gpuProblem: 'WebGPU not requested' };
    expect(describeStatus({ ...cpu, qualityState: { ...q, renderThreads: 2, threadsProblem: null } }, NOW).summary).toMatch(/^Live: Demo head on CPU \(no GPU\), WebAssembly SIMD, 2 render threads, 4\.3 renders\/s, fast mode /);
    const failed = describeStatus({ ...cpu, qualityState: { ...q, renderThreads: 1, threadsProblem: 'render thread 2 of 2 failed: the thread exited with code 1' } }, NOW);
    expect(failed.summary).toMatch(/^Live: Demo head on CPU \(no GPU\), WebAssembly SIMD, 1 render thread, 4\.3 renders\/s/);
    expect(failed.problems).toEqual(['The extra render threads stopped (render thread 2 of 2 failed: the thread exited with code 1): rendering on one thread.']);
    const slower = describeStatus({ ...cpu, qualityState: { ...q, renderThreads: 1, threadsProblem: null, threadsMs: { pool: 31.6, one: 20.2 } } }, NOW);
    expect(slower.summary).toMatch(/^Live: Demo head on CPU \(no GPU\), WebAssembly SIMD, 1 render thread \(the render pool measured 32 ms a frame, one thread 20 ms\), 4\.3 renders\/s/);
    expect(slower.problems).toEqual([]);
  });

  it('does not call a CPU renderer the user chose a problem', () => {
    expect(describeStatus({ ...live, source: 'cpu-reference', adapter: null, gpuProblem: 'WebGPU not requested' }, NOW).problems).toEqual([]);
  });

  it('says when no microphone audio ever arrived and when it stopped arriving', () => {
    expect(describeStatus({ ...live, micIdleSec: null }, NOW).problems).toEqual(['No microphone audio has reached the avatar (not allowed or not requested by the page): it idles.']);
    expect(describeStatus({ ...live, micIdleSec: 12.4 }, NOW).problems).toEqual(['No microphone audio for 12 s (the microphone ended or was stopped): the avatar idles.']);
  });

  it('says which render mode runs and why, with the measured frame times', () => {
    const q = { mode: 'auto' as const, budgetMs: 40 };
    const line = (patch: Partial<QualityState>): string => describeStatus({ ...live, qualityState: { ...q, quality: 'exact', reason: 'keeps-up', exactMs: null, fastMs: null, ...patch } }, NOW).summary;
    expect(line({ exactMs: 31.2 })).toBe('Live: Demo head on WebGPU, SwiftShader (software), 4.3 renders/s, exact mode (31 ms a frame, within the 40 ms budget), 1 camera track. Lip sync: face 180 ms behind the voice, voice delayed 230 ms.');
    expect(line({ reason: 'fast-slower', exactMs: 118.6, fastMs: 302 })).toMatch(/ 4\.3 renders\/s, exact mode \(119 ms a frame, over the 40 ms budget, but fast mode measured slower: 302 ms\), 1 camera track\./);
    expect(line({ quality: 'fast', reason: 'fast-faster', exactMs: 120, fastMs: 61 })).toMatch(/, fast mode \(exact takes 120 ms a frame, over the 40 ms budget; fast mode 61 ms\), /);
    expect(line({ quality: 'fast', reason: 'trying', exactMs: 120 })).toMatch(/, trying fast mode \(exact took 120 ms a frame, over the 40 ms budget\), /);
    expect(line({ reason: 'trying', exactMs: 120 })).toMatch(/, exact mode, preparing fast mode \(120 ms a frame, over the 40 ms budget\), /);
    expect(line({ reason: 'unavailable', exactMs: 120 })).toMatch(/, exact mode \(fast mode could not start\), /);
    expect(line({ mode: 'fast', quality: 'fast', reason: 'set', fastMs: 70 })).toMatch(/, fast mode \(chosen in the settings\), /);
    expect(line({ mode: 'fast', quality: 'exact', reason: 'set' })).toMatch(/, exact mode, preparing the fast mode chosen in the settings, /);
  });

  it('passes the engine problem through first', () => {
    expect(describeStatus({ ...live, problem: 'Renderer failed: boom' }, NOW).problems[0]).toBe('Renderer failed: boom');
  });
});
