/**
 * publishTalkingHead in a real LiveKit call: a headless Chromium app page publishes with the
 * SDK to the real server; an @livekit/rtc-node participant is the far end. It must receive
 * the face as the camera and the voice as the microphone, see the avatar after the codec,
 * see the mouth move with each syllable and rest between them inside the lip-sync window,
 * see an avatar switch on the same track, and see everything go when the app unpublishes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeAvatar } from '../../worker/avatar/writer.ts';
import { tinyAvatar } from '../helpers/tiny-avatar.ts';
import { startLiveKitServer, type LiveKitServer } from './helpers/livekit-server.ts';
import { Viewer } from './helpers/livekit-viewer.ts';
import { SYLLABLES, halfPeakOnsets, makeSyllablesWav, median, pairOffsets } from './helpers/onsets.ts';
import { RENDER_SIDE, holdResample, modelSignals, mouthBox, renderSteady, silenceFrame, upsample25 } from './helpers/reference.ts';
import { launchSdkBrowser, startSdkPageServer, type SdkPageServer } from './helpers/sdk-page.ts';
import { boxLuma, downscale, psnr } from './helpers/sdk-pixels.ts';

const ROOM = 'sdk-publish';
// livekit-client simulcasts only from 480 px up (a low layer plus the original).
const SIDE = 480;
const HEAD = { avatar: null, microphone: true, size: { width: SIDE, height: SIDE }, frameRate: 25, engineUrl: '/engine/', backend: 'cpu', renderMaxSide: RENDER_SIDE, idleBlinks: false, idleHeadMotion: false };

let server: LiveKitServer;
let dir: string;
let wav: string;
let app: SdkPageServer;
let browser: Browser;
let page: Page;
let viewer: Viewer;

/** Everything the far end received, kept for the whole file. */
const video: { t: number; luma: number; db: number; w: number; h: number }[] = [];
const audio: [number, number][] = [];
const silenceRender = renderSteady(silenceFrame());
const mouth = mouthBox();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'r2t-sdk-lk-'));
  wav = makeSyllablesWav(dir);
  [server, app] = await Promise.all([startLiveKitServer(), startSdkPageServer()]);
  app.put('tiny.r2t', writeAvatar(tinyAvatar()));
  browser = await launchSdkBrowser(wav);
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.url);
  viewer = await Viewer.join(server, ROOM);
}, 600_000);

/** Uncaught errors in the app page (a rejected write after stop, ...) fail the test that caused them. */
const pageErrors: string[] = [];
afterEach(() => {
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await viewer?.leave();
  await browser?.close();
  await app?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type PageWindow = {
  t: { sdk: typeof import('../../sdk/index.ts'); livekit: typeof import('livekit-client'); example: typeof import('../../examples/livekit-app.ts'); opened: MediaStreamTrack[] };
  room: import('livekit-client').Room;
  pub: import('../../sdk/index.ts').PublishedTalkingHead;
};

describe('publishTalkingHead to a real LiveKit server', () => {
  it('publishes the face as a simulcast camera and the voice as the microphone', async () => {
    const token = await server.token('app', ROOM);
    const published = await page.evaluate(
      async ([url, tok, head]) => {
        const w = window as unknown as PageWindow;
        // examples/livekit-app.ts, as an app would call it.
        const { avatar, engineUrl, microphone: _m, ...rest } = head as typeof HEAD;
        const joined = await w.t.example.joinAsTalkingHead({ url, token: tok, avatar, engineUrl, head: rest });
        w.room = joined.room;
        w.pub = joined.published;
        return { video: w.pub.video.source, audio: w.pub.audio.source, simulcast: w.pub.video.simulcasted ?? null, layers: (w.pub.video.trackInfo?.layers ?? []).map((l) => `${l.width}x${l.height}`), dims: w.pub.video.dimensions ?? null };
      },
      [server.url, token, HEAD] as const,
    );
    console.log(`[sdk-livekit] published ${JSON.stringify(published)}`);
    expect(published).toMatchObject({ video: 'camera', audio: 'microphone' });
    const v = await viewer.track('app', 'video');
    const a = await viewer.track('app', 'audio');
    expect(v.source).toBe('camera');
    expect(v.simulcasted).toBe(true);
    expect(a.source).toBe('microphone');
    viewer.watchVideo(v.track, (t, rgba, w, h) => {
      video.push({ t, luma: boxLuma(rgba, w, h, mouth), db: psnr(downscale(rgba, w, h, RENDER_SIDE), silenceRender), w, h });
    });
    viewer.watchAudio(a.track, (t, rms) => audio.push([t, rms]));
    await viewer.until('30 frames', () => video.length >= 30, 30_000);
    expect(audio.length).toBeGreaterThan(10);
  });

  it('the far end sees the avatar (PSNR >= 25 dB against the renderer after the codec)', async () => {
    // Between syllables the face rests: the best of the recent frames is a still one.
    await page.waitForTimeout(3000);
    const recent = video.slice(-60);
    const best = Math.max(...recent.map((f) => f.db));
    const last = recent.at(-1)!;
    console.log(`[sdk-livekit] far end ${last.w}x${last.h}; best still-frame PSNR ${best.toFixed(1)} dB over ${recent.length} frames`);
    expect(best).toBeGreaterThanOrEqual(25);
  });

  it('the mouth moves with each syllable and rests between them, inside the lip-sync window', async (ctx) => {
    const from = performance.now();
    const period = SYLLABLES * 1.5;
    await page.waitForTimeout(Math.round(period * 1000 * 1.6));
    const stats = await page.evaluate(() => (window as unknown as PageWindow).pub.head.stats());
    const vids: [number, number][] = video.filter((f) => f.t >= from).map((f) => [f.t, f.luma]);
    const auds = audio.filter(([t]) => t >= from);
    const t0 = Math.max(vids[0]![0], auds[0]![0]);
    const n = Math.floor((Math.min(vids.at(-1)![0], auds.at(-1)![0]) - t0) / 10);
    const env = holdResample(auds, t0, n);
    const luma = holdResample(vids, t0, n);
    const base = median(luma);
    const opening = luma.map((x) => Math.max(0, base - x)); // the open mouth is a dark band

    const audioOn = halfPeakOnsets(env, Math.max(...env) * 0.05, 40, 30);
    const videoOn = halfPeakOnsets(opening, Math.max(...opening) * 0.1, 30, 60);
    const far = pairOffsets(audioOn, videoOn, 30, 60).map((x) => x * 10);
    const model = modelSignals(wav);
    const mOpen = upsample25(model.opening);
    const mBase = median(mOpen);
    const mOpening = mOpen.map((x) => Math.max(0, x - mBase));
    const own = pairOffsets(halfPeakOnsets(model.envelope, Math.max(...model.envelope) * 0.05, 40, 30), halfPeakOnsets(mOpening, Math.max(...mOpening) * 0.1, 30, 60), 30, 60).map((x) => x * 10);
    const offset = median(far) - median(own);
    // Resting: in the quietest tenth of the recording the mouth is as closed as the median.
    const quiet = env.map((e, i) => [e, opening[i]!] as const).sort((x, y) => x[0] - y[0]).slice(0, Math.floor(env.length / 10));
    const restOpening = median(quiet.map((q) => q[1]));
    console.log(`[sdk-livekit] sender: ${stats.renderFps.toFixed(1)} renders/s, lag ${stats.lagMs?.toFixed(0)} ms, voice delay ${stats.audioDelayMs.toFixed(0)} ms`);
    console.log(`[sdk-livekit] far end: ${audioOn.length} voice onsets, ${videoOn.length} mouth onsets, paired ${JSON.stringify(far)} ms; model ${JSON.stringify(own)} ms; pipeline offset ${offset} ms; rest opening ${restOpening.toFixed(2)} of peak ${Math.max(...opening).toFixed(2)}`);
    expect(audioOn.length).toBeGreaterThanOrEqual(SYLLABLES);
    expect(Math.max(...opening)).toBeGreaterThan(5); // the mouth opened: luma in the mouth box fell
    expect(restOpening).toBeLessThan(Math.max(...opening) * 0.1);
    if (stats.renderFps < 3) {
      console.log(`[sdk-livekit] inconclusive: ${stats.renderFps.toFixed(1)} renders/s < 3; the machine is too loaded to resolve the sync window`);
      ctx.skip();
      return;
    }
    expect(far.length).toBeGreaterThanOrEqual(Math.floor(audioOn.length * 0.75));
    expect(offset).toBeLessThanOrEqual(45);
    expect(offset).toBeGreaterThanOrEqual(-125);
  });

  it('an avatar switch mid-call changes what the far end sees, on the same track', async () => {
    const sidBefore = (await viewer.track('app', 'video')).sid;
    const from = performance.now();
    await page.evaluate(() => (window as unknown as PageWindow).pub.setAvatar('/files/tiny.r2t'));
    await viewer.until('frames of the new avatar', () => video.filter((f) => f.t > from).slice(-10).length === 10 && video.slice(-10).every((f) => f.db < 15), 30_000);
    expect(viewer.unpublished).toEqual([]);
    expect((await viewer.track('app', 'video')).sid).toBe(sidBefore);
  });

  it('unpublish releases both tracks, the microphone and the engine', async () => {
    const state = await page.evaluate(async () => {
      const w = window as unknown as PageWindow;
      await w.pub.unpublish();
      return { video: w.pub.head.videoTrack.readyState, audio: w.pub.head.audioTrack.readyState, mics: w.t.opened.map((t) => t.readyState), stopped: w.pub.head.stopped, published: w.room.localParticipant.trackPublications.size };
    });
    expect(state).toEqual({ video: 'ended', audio: 'ended', mics: ['ended'], stopped: true, published: 0 });
    await viewer.until('both tracks unpublished', () => viewer.unpublished.filter((u) => u.identity === 'app').length >= 2);
  });

  it('TalkingHeadAudioProcessor: an app that publishes its own microphone gets the face published beside it', async () => {
    const token = await server.token('app2', ROOM);
    await page.evaluate(
      async ([url, tok, head]) => {
        const w = window as unknown as PageWindow & { room2: import('livekit-client').Room };
        const { livekit, sdk } = w.t;
        w.room2 = new livekit.Room({ adaptiveStream: false, dynacast: false });
        await w.room2.connect(url, tok);
        const mic = await livekit.createLocalAudioTrack();
        // livekit-client runs processors only on tracks with an AudioContext (the room's, once published).
        mic.setAudioContext(new AudioContext());
        const { avatar, size, frameRate, engineUrl, backend, renderMaxSide, idleBlinks, idleHeadMotion } = head as typeof HEAD;
        await mic.setProcessor(new sdk.TalkingHeadAudioProcessor({ avatar, size, frameRate, engineUrl, backend: backend as 'cpu', renderMaxSide, idleBlinks, idleHeadMotion }));
        await w.room2.localParticipant.publishTrack(mic, { source: livekit.Track.Source.Microphone });
      },
      [server.url, token, HEAD] as const,
    );
    const v = await viewer.track('app2', 'video');
    const a = await viewer.track('app2', 'audio');
    expect(v.source).toBe('camera');
    expect(a.source).toBe('microphone');
    const seen: number[] = [];
    viewer.watchVideo(v.track, (_t, rgba, w, h) => seen.push(psnr(downscale(rgba, w, h, RENDER_SIDE), silenceRender)));
    await viewer.until('a still frame of the avatar from the processor', () => seen.length > 20 && Math.max(...seen) >= 25, 30_000);
    await page.evaluate(async () => {
      const w = window as unknown as { room2: import('livekit-client').Room };
      await w.room2.disconnect();
    });
    await viewer.until('the processor face unpublished', () => viewer.unpublished.some((u) => u.identity === 'app2'));
  });
});
