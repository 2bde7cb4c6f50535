/**
 * Lip sync at the far end, measured without ambiguity: isolated syllables (a second of
 * silence between them) as the fake mic, each far-end mouth opening matched to its own voice
 * onset. What the pipeline adds (far-end offset minus the model's own offline offset) must
 * stay in the window: audio leads video by at most 45 ms, lags by at most 125 ms.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, openFake } from './helpers/app.ts';
import { launch, type Harness } from './helpers/browser.ts';
import { coverBox, holdResample, modelSignals, mouthBox, renderSteady, silenceFrame, upsample25, type Box } from './helpers/reference.ts';
import { SYLLABLES, halfPeakOnsets, makeSyllablesWav, median, pairOffsets } from './helpers/onsets.ts';

const OUT_W = 640;
const OUT_H = 480;

let h: Harness;
let dir: string;
let wav: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-av-'));
  wav = makeSyllablesWav(dir);
  h = await launch({ fakeAudioWav: wav });
  await h.setSettings({ idleHeadMotion: false, idleBlinks: false });
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Far = {
  answer(o: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit>;
  inbound(): Promise<{ framesDecoded: number } | null>;
  record(ms: number, box: Box): Promise<{ video: [number, number][]; audio: [number, number][] }>;
};

describe('audio-video offset at the far end of a call', () => {
  const MIN_RENDER_FPS = 3;

  it('every syllable: the mouth opens within the sync window of its voice onset', async (ctx) => {
    expect(readFileSync(wav).length).toBeGreaterThan(48000);
    const sender = await h.context.newPage();
    const receiver = await h.context.newPage();
    await sender.goto(`${h.pages.url}/basic.html`);
    await receiver.goto(`${h.pages.url}/receiver.html`);
    const opened = await openFake(sender, { width: OUT_W, height: OUT_H, frameRate: 30 }, true);
    const a = opened.tracks?.find((t) => t.kind === 'audio')?.index ?? -1;
    const v = opened.tracks?.find((t) => t.kind === 'video')?.index ?? -1;
    const offer = await call(sender, 'offerWithAll', [a, v]);
    const answer = await receiver.evaluate((o) => (window as unknown as { far: Far }).far.answer(o), offer);
    await call(sender, 'acceptAnswer', answer);

    const sil = silenceFrame();
    const mouth = coverBox(mouthBox(), OUT_W, OUT_H);
    // Ramp-up and a few seconds for the lip-sync delay to settle.
    await receiver.waitForTimeout(8000);
    const period = SYLLABLES * 1.5;
    const rec = await receiver.evaluate(([ms, box]) => (window as unknown as { far: Far }).far.record(ms, box), [Math.round(period * 1000 * 1.6), mouth] as const);
    const stats = await call(sender, 'stats', v);

    const t0 = Math.max(rec.video[0][0], rec.audio[0][0]);
    const n = Math.floor((Math.min(rec.video.at(-1)![0], rec.audio.at(-1)![0]) - t0) / 10);
    const env = holdResample(rec.audio, t0, n);
    const luma = holdResample(rec.video, t0, n);
    const base = median(luma);
    const opening = luma.map((x) => Math.max(0, base - x)); // the open mouth is a dark band

    const peakEnv = Math.max(...env);
    const audioOn = halfPeakOnsets(env, peakEnv * 0.05, 40, 30);
    const peakOpen = Math.max(...opening);
    const videoOn = halfPeakOnsets(opening, peakOpen * 0.1, 30, 60);
    const far = pairOffsets(audioOn, videoOn, 30, 60).map((x) => x * 10);

    // The model's own offset, offline, same rule: generator mouth opening vs the file's envelope.
    const model = modelSignals(wav);
    const mOpen = upsample25(model.opening);
    const mBase = median(mOpen);
    const mOpening = mOpen.map((x) => Math.max(0, x - mBase));
    const mAudio = halfPeakOnsets(model.envelope, Math.max(...model.envelope) * 0.05, 40, 30);
    const mVideo = halfPeakOnsets(mOpening, Math.max(...mOpening) * 0.1, 30, 60);
    const own = pairOffsets(mAudio, mVideo, 30, 60).map((x) => x * 10);

    const farMed = median(far);
    const ownMed = median(own);
    const offset = farMed - ownMed;
    console.log(`[av-offset] sender: ${stats?.renderFps.toFixed(1)} renders/s, lag ${stats?.lagMs?.toFixed(0)} ms, mic delay ${stats?.micDelayMs?.toFixed(0)} ms`);
    console.log(`[av-offset] far end: ${audioOn.length} voice onsets, ${videoOn.length} mouth onsets, ${far.length} paired: ${JSON.stringify(far)} ms (median ${farMed})`);
    console.log(`[av-offset] model offline: ${JSON.stringify(own)} ms (median ${ownMed}); pipeline offset ${offset} ms (positive: the face follows the voice)`);
    expect(audioOn.length).toBeGreaterThanOrEqual(SYLLABLES);
    // Matching each mouth opening to its syllable needs a render at least every ~330 ms; a
    // starved machine (CI neighbours, load > cores) cannot resolve a 45 ms window at all, so
    // the measurement is declared inconclusive there instead of pretending either way.
    expect(stats?.renders ?? 0).toBeGreaterThan(0); // no renders at all is a broken engine, not a loaded machine
    if ((stats?.renderFps ?? 0) < MIN_RENDER_FPS) {
      console.log(`[av-offset] inconclusive: ${stats?.renderFps.toFixed(1)} renders/s < ${MIN_RENDER_FPS}; the machine is too loaded to resolve the sync window`);
      ctx.skip();
      return;
    }
    expect(far.length).toBeGreaterThanOrEqual(Math.floor(audioOn.length * 0.75));
    expect(own.length).toBeGreaterThanOrEqual(SYLLABLES - 1);
    expect(offset).toBeLessThanOrEqual(45);
    expect(offset).toBeGreaterThanOrEqual(-125);
  });
});
