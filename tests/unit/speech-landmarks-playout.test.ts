import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoLandmarkTrack } from '../../worker/avatar/synthetic.ts';
import { SpeechLandmarkSource } from '../../worker/engine/speech-landmarks.ts';
import { generatorFromOnnx } from '../../worker/landmarks/onnx-export.ts';
import { landmarkStatistics } from '../../worker/model/landmarks.ts';

const generator = generatorFromOnnx(new Uint8Array(readFileSync('assets/generator/default.onnx')));
const stats = { ...landmarkStatistics(demoLandmarkTrack(100), 100, 204), frames: 100 };
const SR = 16000;

/** A voice-like signal: a buzz whose loudness comes and goes four times a second. */
function speech(seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * SR));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.max(0, Math.sin((2 * Math.PI * 4 * i) / SR)) * Math.sin((2 * Math.PI * 160 * i) / SR);
  return x;
}

function source() {
  const clock = { t: 0, now() {
    return this.t;
  } };
  const src = new SpeechLandmarkSource({ generator, stats, window: 5, numbers: 204, clock });
  return { clock, src };
}

describe('SpeechLandmarkSource play-out', () => {
  it('audio that arrives in one burst is shown frame after frame, not as its newest frame only', () => {
    const { clock, src } = source();
    const audio = speech(1.4);
    const push = (from: number, to: number) => {
      for (let i = from; i < to; i += 320) src.pushAudio(audio.subarray(i, i + 320), SR, i / SR);
    };
    // The first 0.2 s is shown; then a background tab delivers the next 1.2 s of mic chunks at
    // once (20 ms chunks, all at wall time 0).
    push(0, 0.2 * SR);
    expect(src.latestWindow()).not.toBeNull();
    push(0.2 * SR, audio.length);
    const times: number[] = [];
    const windows: Float32Array[] = [];
    for (let k = 0; k < 10; k++) {
      clock.t = 10 + k * 40; // renders every 40 ms; no more audio comes (the next burst is late)
      const w = src.latestWindow();
      if (!w) throw new Error('expected a window');
      times.push(w.audioTimeSec);
      windows.push(w.frames);
    }
    // The shown instant advances with the wall clock (a little faster: the delay drains) ...
    for (let k = 1; k < times.length; k++) {
      expect(times[k] - times[k - 1]).toBeGreaterThanOrEqual(0.03);
      expect(times[k] - times[k - 1]).toBeLessThanOrEqual(0.06);
    }
    // ... so consecutive renders get different landmarks (the mouth moves between bursts).
    let changed = 0;
    for (let k = 1; k < windows.length; k++) if (windows[k].some((v, i) => v !== windows[k - 1][i])) changed++;
    expect(changed).toBe(windows.length - 1);
  });

  it('with audio arriving steadily the window stays at the newest frames', () => {
    const { clock, src } = source();
    const audio = speech(2);
    let newestTime = 0;
    let worstLag = 0;
    for (let i = 0; i < audio.length; i += 320) {
      clock.t = (i / SR) * 1000;
      src.pushAudio(audio.subarray(i, i + 320), SR, i / SR);
      const w = src.latestWindow();
      if (!w) continue;
      newestTime = Math.max(newestTime, w.audioTimeSec);
      // How far the shown instant is behind the audio pushed so far (minus the stream's own latency).
      worstLag = Math.max(worstLag, (i + 320) / SR - w.audioTimeSec - src.latencyMs / 1000);
    }
    expect(newestTime).toBeGreaterThan(1.5);
    expect(worstLag).toBeLessThan(0.1);
  });

  it('never falls more than 1.6 s behind the newest frame, and goes idle when the mic stops', () => {
    const { clock, src } = source();
    const audio = speech(3);
    const push = (from: number, to: number) => {
      for (let i = from; i < to; i += 320) src.pushAudio(audio.subarray(i, i + 320), SR, i / SR);
    };
    push(0, 0.2 * SR);
    const first = src.latestWindow()!.audioTimeSec;
    // 2.8 s arrive at once: the play-out skips ahead to at most 1.6 s (+ the window) behind.
    push(0.2 * SR, audio.length);
    clock.t = 1;
    const w = src.latestWindow()!;
    expect(w.audioTimeSec - first).toBeGreaterThan(1);
    expect(3 - w.audioTimeSec).toBeLessThan(1.6 + 0.2 + src.latencyMs / 1000);
    clock.t = 600; // more than IDLE_AFTER_MS without audio
    expect(src.latestWindow()).toBeNull();
  });
});
