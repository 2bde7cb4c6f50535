/**
 * What a listener at the far end of a real RTCPeerConnection sees and hears when the user
 * talks: espeak-ng speech (then silence, looped by Chromium) is the fake mic; the built-in
 * demo head renders at 64x64 so SwiftShader manages several renders a second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, openFake } from './helpers/app.ts';
import { launch, type Harness } from './helpers/browser.ts';
import { RENDER_SIDE, coverBox, holdResample, makeSpeechWav, mouthBox, quietRuns, renderSteady, silenceFrame, type Box } from './helpers/reference.ts';

const OUT_W = 640;
const OUT_H = 480;

let h: Harness;
let dir: string;
let wav: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-speech-'));
  wav = makeSpeechWav(dir);
  h = await launch({ fakeAudioWav: wav });
  // The CPU reference renders 64x64 several times a second here; SwiftShader's WebGPU about once
  // (gpu-device-loss.test.ts covers that path).
  await h.setSettings({ renderer: 'cpu', renderMaxSide: RENDER_SIDE, idleHeadMotion: false, idleBlinks: false });
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Far = {
  answer(o: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit>;
  inbound(): Promise<{ framesDecoded: number } | null>;
  record(ms: number, box: Box): Promise<{ video: [number, number][]; audio: [number, number][] }>;
  grab(w: number, h: number): number[];
};

function std(v: number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

describe('talking to the far end of a call', () => {
  it('the mouth moves with speech, stays still in silence and matches the renderer', async () => {
    const sender = await h.context.newPage();
    const receiver = await h.context.newPage();
    await sender.goto(`${h.pages.url}/basic.html`);
    await receiver.goto(`${h.pages.url}/receiver.html`);
    const opened = await openFake(sender, { width: OUT_W, height: OUT_H, frameRate: 30 }, true);
    const audioIndex = opened.tracks?.find((t) => t.kind === 'audio')?.index ?? -1;
    const videoIndex = opened.tracks?.find((t) => t.kind === 'video')?.index ?? -1;
    expect(audioIndex).toBeGreaterThanOrEqual(0);
    expect(videoIndex).toBeGreaterThanOrEqual(0);
    const offer = await call(sender, 'offerWithAll', [audioIndex, videoIndex]);
    const answer = await receiver.evaluate((o) => (window as unknown as { far: Far }).far.answer(o), offer);
    await call(sender, 'acceptAnswer', answer);

    const sil = silenceFrame();
    const closed = renderSteady(sil);
    const mouth = coverBox(mouthBox(), OUT_W, OUT_H);

    // Bandwidth ramp-up and a few seconds of lip-sync measurement before recording.
    const deadline = Date.now() + 25_000;
    let inbound = await receiver.evaluate(() => (window as unknown as { far: Far }).far.inbound());
    while ((inbound?.framesDecoded ?? 0) < 60 && Date.now() < deadline) {
      await receiver.waitForTimeout(500);
      inbound = await receiver.evaluate(() => (window as unknown as { far: Far }).far.inbound());
    }
    await receiver.waitForTimeout(3000);
    const rec = await receiver.evaluate(([ms, box]) => (window as unknown as { far: Far }).far.record(ms, box), [17_500, mouth] as const);
    const stats = await call(sender, 'stats', videoIndex);
    console.log('[speech-sync] sender stats', JSON.stringify(stats));
    expect(stats?.source).toMatch(/webgpu|cpu-reference/);
    expect(stats?.landmarks).toBe('speech');
    expect(rec.video.length).toBeGreaterThan(100);
    expect(rec.audio.length).toBeGreaterThan(500);

    const t0 = Math.max(rec.video[0][0], rec.audio[0][0]);
    const n = Math.floor((Math.min(rec.video.at(-1)![0], rec.audio.at(-1)![0]) - t0) / 10);
    const env = holdResample(rec.audio, t0, n);
    const luma = holdResample(rec.video, t0, n);

    // Silence: the interior of every quiet stretch of at least 1.5 s, 0.5 s in from its edges.
    const quiet = quietRuns(env, 0.003, 150).map(([a, b]) => luma.slice(a + 50, b - 50)).filter((s) => s.length > 20);
    expect(quiet.length).toBeGreaterThan(0);
    const quietStd = Math.max(...quiet.map(std));
    const loud = env.map((e, i) => (e > 0.02 ? luma[i] : NaN)).filter((v) => !Number.isNaN(v));
    const loudRange = Math.max(...loud) - Math.min(...loud);
    console.log(`[speech-sync] mouth luma: silence std ${quietStd.toFixed(2)} over ${quiet.length} runs; speech std ${std(loud).toFixed(2)} range ${loudRange.toFixed(1)}`);
    expect(quietStd).toBeLessThan(1.5);
    expect(std(loud)).toBeGreaterThan(3 * Math.max(quietStd, 0.5));
    expect(loudRange).toBeGreaterThan(15);

    // Pixels: the far end's frame in silence equals the renderer's output for the silence
    // input (the 64x64 render, scaled to cover 640x480: rows 8..55 are visible).
    const rows = (RENDER_SIDE * OUT_H) / OUT_W;
    const top = (RENDER_SIDE - rows) / 2;
    let best = Infinity;
    for (let k = 0; k < 40; k++) {
      const got = await receiver.evaluate(([w, hh]) => (window as unknown as { far: Far }).far.grab(w, hh), [RENDER_SIDE, rows] as const);
      let sum = 0;
      for (let y = 0; y < rows; y++) {
        for (let x = 0; x < RENDER_SIDE; x++) {
          for (let c = 0; c < 3; c++) sum += Math.abs(got[(y * RENDER_SIDE + x) * 4 + c] - closed[((y + top) * RENDER_SIDE + x) * 4 + c]);
        }
      }
      best = Math.min(best, sum / (rows * RENDER_SIDE * 3));
      await receiver.waitForTimeout(200);
    }
    console.log(`[speech-sync] closest far-end frame to the silence render: mean |diff| ${best.toFixed(2)} / 255`);
    expect(best).toBeLessThan(12);
    // The audio-video offset is measured syllable by syllable in av-offset.test.ts; a
    // correlation over running speech is ambiguous by a syllable at a few renders a second.


  });
});
