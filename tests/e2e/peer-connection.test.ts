import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Harness } from './helpers/browser.ts';
import { call, openFake } from './helpers/app.ts';

let h: Harness;
beforeAll(async () => {
  h = await launch();
});
afterAll(async () => {
  await h?.close();
});

interface Inbound {
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  t: number;
}

type Far = { answer(o: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit>; inbound(): Promise<Inbound | null>; sample(): { mean: number; std: number } };

describe('a call between two pages over a real RTCPeerConnection', () => {
  it('delivers the fake camera at the requested size and frame rate (+-10%) with real pixels', async () => {
    const sender = await h.context.newPage();
    const receiver = await h.context.newPage();
    await sender.goto(`${h.pages.url}/basic.html`);
    await receiver.goto(`${h.pages.url}/receiver.html`);
    const opened = await openFake(sender, { width: 640, height: 480, frameRate: 30 });
    const index = opened.tracks?.[0]?.index ?? -1;
    expect(index).toBeGreaterThanOrEqual(0);

    const offer = await call(sender, 'offerWith', index);
    const answer = await receiver.evaluate((o) => (window as unknown as { far: Far }).far.answer(o), offer);
    await call(sender, 'acceptAnswer', answer);

    const inbound = () => receiver.evaluate(() => (window as unknown as { far: Far }).far.inbound());
    // Let bandwidth estimation ramp up before measuring.
    const deadline = Date.now() + 20_000;
    let first = await inbound();
    while ((!first || first.framesDecoded < 30) && Date.now() < deadline) {
      await receiver.waitForTimeout(500);
      first = await inbound();
    }
    expect(first?.framesDecoded).toBeGreaterThanOrEqual(30);
    // A long window (6 s): the rate is a property of the track, the render count of the
    // machine's load, so both are measured over the same span instead of a short one.
    const before = await call(sender, 'stats', index);
    await receiver.waitForTimeout(6000);
    const second = await inbound();
    const after = await call(sender, 'stats', index);
    if (!first || !second || !before || !after) throw new Error('no inbound video or sender stats');
    const fps = ((second.framesDecoded - first.framesDecoded) * 1000) / (second.t - first.t);
    expect(second.frameWidth).toBe(640);
    expect(second.frameHeight).toBe(480);
    expect(fps).toBeGreaterThanOrEqual(27);
    expect(fps).toBeLessThanOrEqual(33);

    const pixels = await receiver.evaluate(() => (window as unknown as { far: Far }).far.sample());
    expect(pixels.std).toBeGreaterThan(5); // a picture, not a flat or black frame

    // The advertised rate is kept by repeating the latest render, and real renders keep
    // arriving in between (new pixels written to the track, and the engine's render count).
    const written = after.framesWritten - before.framesWritten;
    const repeated = after.framesRepeated - before.framesRepeated;
    console.log(`[peer-connection] 6 s: far end ${fps.toFixed(1)} fps; sender wrote ${written} new + ${repeated} repeated frames; engine rendered ${after.renders - before.renders}`);
    expect(after.renders - before.renders).toBeGreaterThanOrEqual(2);
    expect(written).toBeGreaterThanOrEqual(2);
    expect(after.sentFps).toBeGreaterThan(25);
  });
});
