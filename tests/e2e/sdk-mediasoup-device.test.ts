/**
 * produceTalkingHead through mediasoup-client's real Device in headless Chromium (its Chrome111
 * handler: a real RTCPeerConnection, real SDP), loaded with a mediasoup router's RTP
 * capabilities, on a send transport whose 'connect' and 'produce' are answered by a stand-in
 * for the mediasoup server: a plain RTCPeerConnection in a second page
 * (helpers/sdk-mediasoup-standin.ts). The app side is examples/mediasoup-app.ts, as an app
 * would run it. The stand-in must decode the avatar: PSNR >= 25 dB against the renderer's
 * output after the codec, and receive the voice.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDER_SIDE, renderSteady, silenceFrame } from './helpers/reference.ts';
import { launchSdkBrowser, startSdkPageServer, type SdkPageServer } from './helpers/sdk-page.ts';
import { downscale, psnr } from './helpers/sdk-pixels.ts';

let browser: Browser;
let app: SdkPageServer;
let near: Page;
let far: Page;
const pageErrors: string[] = [];

/** The head: built-in demo head, CPU reference at 64 px, no idle motion (comparable with the reference). */
const HEAD = { avatar: null, microphone: true, size: { width: 256, height: 256 }, frameRate: 25, engineUrl: '/engine/', backend: 'cpu', renderMaxSide: RENDER_SIDE, idleBlinks: false, idleHeadMotion: false, simulcast: false };

type Standin = typeof import('./helpers/sdk-mediasoup-standin.ts');
type PageWindow = {
  t: {
    mediasoup: typeof import('mediasoup-client');
    fakeParameters: typeof import('mediasoup-client/fakeParameters');
    mediasoupExample: typeof import('../../examples/mediasoup-app.ts');
    standin: Standin;
    grab(t: MediaStreamTrack): Promise<{ width: number; height: number; b64: string }>;
  };
  standInSignal(op: string, arg: unknown): Promise<unknown>;
  sent: { connect: { role: string | undefined; fingerprints: number }[]; produce: { kind: string; codec: string; encodings: number; mid: string | undefined }[]; handler: string };
  produced: import('../../sdk/index.ts').ProducedTalkingHead;
};

beforeAll(async () => {
  app = await startSdkPageServer();
  browser = await launchSdkBrowser();
  near = await browser.newPage();
  far = await browser.newPage();
  for (const p of [near, far]) p.on('pageerror', (e) => pageErrors.push(e.message));
  await Promise.all([near.goto(app.url), far.goto(app.url)]);
  // The app's signalling to "its server": relayed by the test to the stand-in's page.
  await near.exposeFunction('standInSignal', async (op: string, arg: unknown) => {
    if (op === 'prepare') return far.evaluate(() => (window as unknown as PageWindow).t.standin.prepareFarEnd());
    if (op === 'answer') return far.evaluate((sdp) => (window as unknown as PageWindow).t.standin.answerOffer(sdp), arg as string);
    throw new Error(`unknown stand-in op ${op}`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const reference = renderSteady(silenceFrame());

/** Frames the stand-in decodes, until one satisfies `done` (or 20 tries); returns that one or the last. */
async function farFrames(done: (f: { db: number; mean: number }) => boolean): Promise<{ db: number; mean: number }> {
  let f = { db: 0, mean: 0 };
  for (let i = 0; i < 20; i++) {
    const g = await far.evaluate(() => {
      const w = window as unknown as PageWindow;
      return w.t.grab(w.t.standin.farVideoTrack());
    });
    const rgba = new Uint8Array(Buffer.from(g.b64, 'base64'));
    let sum = 0;
    for (let k = 0; k < rgba.length; k += 4) sum += (rgba[k]! + rgba[k + 1]! + rgba[k + 2]!) / 3;
    f = { db: psnr(downscale(rgba, g.width, g.height, RENDER_SIDE), reference), mean: sum / (rgba.length / 4) };
    if (done(f)) return f;
    await far.waitForTimeout(500);
  }
  return f;
}

describe('produceTalkingHead on a real mediasoup-client Device', () => {
  it('a stand-in server peer connection decodes the avatar and receives the voice', async () => {
    await near.evaluate(async (head) => {
      const w = window as unknown as PageWindow;
      const { mediasoup, fakeParameters, mediasoupExample, standin } = w.t;
      standin.capturePeerConnections();
      const params = (await w.standInSignal('prepare', null)) as import('./helpers/sdk-mediasoup-standin.ts').StandInParameters;
      const device = new mediasoup.Device();
      // The shape a mediasoup v3 router reports (mediasoup-client's own fixture of it).
      await device.load({ routerRtpCapabilities: fakeParameters.generateRouterRtpCapabilities() });
      w.sent = { connect: [], produce: [], handler: device.handlerName };
      const { produced } = await mediasoupExample.sendTalkingHead(
        device,
        {
          id: 'stand-in-transport',
          iceParameters: { usernameFragment: params.usernameFragment, password: params.password, iceLite: true },
          iceCandidates: [],
          dtlsParameters: { role: 'client', fingerprints: [params.fingerprint] },
        },
        {
          async connectTransport(_id, dtls) {
            w.sent.connect.push({ role: dtls.role, fingerprints: dtls.fingerprints.length });
          },
          async produce(_id, kind, rtpParameters) {
            w.sent.produce.push({ kind, codec: rtpParameters.codecs[0]!.mimeType, encodings: rtpParameters.encodings?.length ?? 0, mid: rtpParameters.mid });
            // The server side of this produce: the stand-in answers the offer mediasoup-client set.
            const candidates = (await w.standInSignal('answer', await standin.nearOffer())) as string[];
            await standin.addFarCandidates(candidates);
            return { id: `producer-${kind}` };
          },
        },
        head as never,
      );
      w.produced = produced;
    }, HEAD);
    const sent = await near.evaluate(() => (window as unknown as PageWindow).sent);
    expect(sent.handler).toBe('Chrome111');
    // One DTLS handshake set up on the first produce; the Device takes the server role the stand-in left it.
    expect(sent.connect).toEqual([{ role: 'server', fingerprints: 1 }]);
    expect(sent.produce.map((p) => [p.kind, p.codec.toLowerCase(), p.encodings])).toEqual([
      ['video', 'video/vp8', 1],
      ['audio', 'audio/opus', 1],
    ]);

    // The stand-in connects, decodes the face and receives the voice.
    const farState = () => far.evaluate(() => (window as unknown as PageWindow).t.standin.farEndState());
    const deadline = Date.now() + 60_000;
    let state = await farState();
    while ((state.connection !== 'connected' || state.framesDecoded < 10 || state.audioPackets < 50) && Date.now() < deadline) {
      await far.waitForTimeout(500);
      state = await farState();
    }
    console.log(`[mediasoup] stand-in: ${JSON.stringify(state)}`);
    expect(state.connection).toBe('connected');
    expect(state.kinds.sort()).toEqual(['audio', 'video']);
    expect(state.framesDecoded).toBeGreaterThanOrEqual(10);
    expect(state.audioPackets).toBeGreaterThanOrEqual(50);
    expect([state.width, state.height]).toEqual([256, 256]);

    // What it decodes is the avatar: the best of a few frames (the encoder ramps its quality up).
    const best = await farFrames((f) => f.db >= 25);
    console.log(`[mediasoup] stand-in frame vs renderer: ${best.db.toFixed(1)} dB`);
    expect(best.db).toBeGreaterThanOrEqual(25);

    // Pause (disableTrackOnPause, the default): the track is disabled, so the far end is sent
    // black frames; resume brings the face back. Both over the real connection.
    await near.evaluate(() => (window as unknown as PageWindow).produced.pause());
    const paused = await farFrames((f) => f.mean < 5);
    expect(paused.mean, 'a black frame while paused').toBeLessThan(5);
    await near.evaluate(() => (window as unknown as PageWindow).produced.resume());
    const resumed = await farFrames((f) => f.db >= 25);
    console.log(`[mediasoup] paused: mean level ${paused.mean.toFixed(1)}; resumed: ${resumed.db.toFixed(1)} dB`);
    expect(resumed.db).toBeGreaterThanOrEqual(25);

    // Close ends both producers and the head this call created.
    const closed = await near.evaluate(async () => {
      const w = window as unknown as PageWindow;
      await w.produced.close();
      return { video: w.produced.video.closed, audio: w.produced.audio.closed, head: w.produced.head.stopped };
    });
    expect(closed).toEqual({ video: true, audio: true, head: true });
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
