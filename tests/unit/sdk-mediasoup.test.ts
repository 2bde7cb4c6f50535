/**
 * produceTalkingHead against mediasoup-client's own FakeHandler (a Device with no browser
 * underneath, as mediasoup-client's tests use): what the server would be told (kinds, RTP
 * encodings, appData), and the produce, pause, resume, replaceTrack and close flows with
 * mediasoup's track semantics (stopTracks, disableTrackOnPause) kept.
 */
import { FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import { Device, type types } from 'mediasoup-client';
import * as fakeParameters from 'mediasoup-client/fakeParameters';
import { FakeHandler } from 'mediasoup-client/handlers/FakeHandler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TalkingHead, TalkingHeadStats } from '../../sdk/talking-head.ts';
import { produceTalkingHead } from '../../sdk/mediasoup.ts';
import { TalkingHeadError } from '../../sdk/errors.ts';
import { sendTalkingHead } from '../../examples/mediasoup-app.ts';

interface FakeHead extends TalkingHead {
  avatars: unknown[];
}

/** A running head as far as mediasoup can tell: two live tracks and the stats the encodings read. */
function fakeHead(width = 640, height = 480, frameRate = 25): FakeHead {
  const videoTrack = new FakeMediaStreamTrack({ kind: 'video' }) as unknown as MediaStreamTrack;
  const audioTrack = new FakeMediaStreamTrack({ kind: 'audio' }) as unknown as MediaStreamTrack;
  let stopped = false;
  const avatars: unknown[] = [];
  return {
    videoTrack,
    audioTrack,
    avatars,
    async setAvatar(a) {
      avatars.push(a);
    },
    setOutputSize() {},
    stats: () => ({ size: { width, height }, frameRate }) as TalkingHeadStats,
    engineStatus: () => Promise.reject(new Error('not an engine')),
    async stop() {
      stopped = true;
      videoTrack.stop();
      audioTrack.stop();
    },
    get stopped() {
      return stopped;
    },
  };
}

interface Produced {
  kind: string;
  rtpParameters: types.RtpParameters;
  appData: types.AppData;
}

let transport: types.Transport;
let produced: Produced[];
let refuse: string | null;

beforeEach(async () => {
  const device = new Device({ handlerFactory: FakeHandler.createFactory(fakeParameters) });
  await device.load({ routerRtpCapabilities: fakeParameters.generateRouterRtpCapabilities() });
  transport = device.createSendTransport(fakeParameters.generateTransportRemoteParameters());
  produced = [];
  refuse = null;
  transport.on('connect', (_p, callback) => callback());
  transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
    if (refuse === kind) return errback(new Error(`server refused ${kind}`));
    produced.push({ kind, rtpParameters, appData });
    callback({ id: `producer-${produced.length}` });
  });
});

describe('produceTalkingHead', () => {
  it('produces the face with three simulcast layers and the voice, tagged in appData', async () => {
    const head = fakeHead();
    const p = await produceTalkingHead(transport, { head, appData: { peer: 'me' } });
    expect(produced.map((x) => x.kind)).toEqual(['video', 'audio']);
    expect(p.video.track).toBe(head.videoTrack);
    expect(p.audio.track).toBe(head.audioTrack);
    const enc = produced[0]!.rtpParameters.encodings!;
    expect(enc.map((e) => e.scaleResolutionDownBy)).toEqual([4, 2, 1]);
    // Each layer gets more bits than the one below it; the thumbnail layer runs at 15 fps.
    expect(enc[0]!.maxBitrate!).toBeLessThan(enc[1]!.maxBitrate!);
    expect(enc[1]!.maxBitrate!).toBeLessThan(enc[2]!.maxBitrate!);
    expect(enc[0]!.maxFramerate).toBe(15);
    expect(enc[2]!.maxFramerate).toBe(25);
    expect(produced[0]!.appData).toEqual({ peer: 'me', r2talker: 'face' });
    expect(produced[1]!.appData).toEqual({ peer: 'me', r2talker: 'voice' });
    expect(produced[1]!.rtpParameters.codecs[0]!.mimeType.toLowerCase()).toBe('audio/opus');
    await p.close();
  });

  it('sends one encoding without simulcast, and drops layers too small to watch', async () => {
    const single = await produceTalkingHead(transport, { head: fakeHead(), simulcast: false });
    expect(produced[0]!.rtpParameters.encodings).toHaveLength(1);
    await single.close();
    const small = await produceTalkingHead(transport, { head: fakeHead(256, 256) });
    // 256 px: the quarter layer (64 px) is dropped, half and full remain.
    expect(produced[2]!.rtpParameters.encodings!.map((e) => e.scaleResolutionDownBy)).toEqual([2, 1]);
    await small.close();
  });

  it('pause disables both tracks and resume enables them (disableTrackOnPause default)', async () => {
    const head = fakeHead();
    const p = await produceTalkingHead(transport, { head });
    p.pause();
    expect(p.paused).toBe(true);
    expect([head.videoTrack.enabled, head.audioTrack.enabled]).toEqual([false, false]);
    p.resume();
    expect(p.paused).toBe(false);
    expect([head.videoTrack.enabled, head.audioTrack.enabled]).toEqual([true, true]);
    await p.close();
  });

  it('keeps tracks enabled while paused with disableTrackOnPause: false', async () => {
    const head = fakeHead();
    const p = await produceTalkingHead(transport, { head, disableTrackOnPause: false });
    p.pause();
    expect(p.video.paused).toBe(true);
    expect([head.videoTrack.enabled, head.audioTrack.enabled]).toEqual([true, true]);
    await p.close();
  });

  it('replaceHead moves both producers onto another head with replaceTrack, without renegotiating', async () => {
    const first = fakeHead();
    const next = fakeHead();
    const p = await produceTalkingHead(transport, { head: first });
    await p.replaceHead(next);
    expect(p.video.track).toBe(next.videoTrack);
    expect(p.audio.track).toBe(next.audioTrack);
    expect(p.head).toBe(next);
    expect(produced).toHaveLength(2); // no new producers
    // The first head was the caller's: it keeps running.
    expect(first.stopped).toBe(false);
    const ended = fakeHead();
    await ended.stop();
    await expect(p.replaceHead(ended)).rejects.toMatchObject({ code: 'STOPPED' });
    await p.close();
  });

  it('setAvatar changes the face in place on the same tracks', async () => {
    const head = fakeHead();
    const p = await produceTalkingHead(transport, { head });
    await p.setAvatar('/avatars/next.r2t');
    expect(head.avatars).toEqual(['/avatars/next.r2t']);
    expect(p.video.track).toBe(head.videoTrack);
    await p.close();
  });

  it('close stops the tracks by default (stopTracks) and is idempotent', async () => {
    const head = fakeHead();
    const p = await produceTalkingHead(transport, { head });
    await p.close();
    await p.close();
    expect(p.video.closed && p.audio.closed).toBe(true);
    expect([head.videoTrack.readyState, head.audioTrack.readyState]).toEqual(['ended', 'ended']);
    await expect(p.replaceHead(fakeHead())).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('close leaves the tracks live with stopTracks: false', async () => {
    const head = fakeHead();
    const p = await produceTalkingHead(transport, { head, stopTracks: false });
    await p.close();
    expect([head.videoTrack.readyState, head.audioTrack.readyState]).toEqual(['live', 'live']);
  });

  it('a refused voice closes the face producer and reports PUBLISH_FAILED', async () => {
    refuse = 'audio';
    const head = fakeHead();
    const err = await produceTalkingHead(transport, { head }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TalkingHeadError);
    expect(err).toMatchObject({ code: 'PUBLISH_FAILED', message: expect.stringContaining('server refused audio') });
    // The face producer was closed and, with stopTracks, took its track with it.
    expect(head.videoTrack.readyState).toBe('ended');
  });

  it('refuses what is not an open send transport', async () => {
    await expect(produceTalkingHead({} as types.Transport, { head: fakeHead() })).rejects.toMatchObject({ code: 'INVALID_OPTION', field: 'sendTransport' });
    transport.close();
    await expect(produceTalkingHead(transport, { head: fakeHead() })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining('closed') });
    const stopped = fakeHead();
    await stopped.stop();
    const device = new Device({ handlerFactory: FakeHandler.createFactory(fakeParameters) });
    await device.load({ routerRtpCapabilities: fakeParameters.generateRouterRtpCapabilities() });
    const t2 = device.createSendTransport(fakeParameters.generateTransportRemoteParameters());
    await expect(produceTalkingHead(t2, { head: stopped })).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('examples/mediasoup-app.ts: connects and produces through the app signalling', async () => {
    const device = new Device({ handlerFactory: FakeHandler.createFactory(fakeParameters) });
    await device.load({ routerRtpCapabilities: fakeParameters.generateRouterRtpCapabilities() });
    const signalled: string[] = [];
    const head = fakeHead();
    const transportOptions = fakeParameters.generateTransportRemoteParameters();
    const { transport: t, produced } = await sendTalkingHead(device, transportOptions, {
      async connectTransport(id) {
        signalled.push(`connect ${id === transportOptions.id}`);
      },
      async produce(_id, kind, rtp, appData) {
        signalled.push(`produce ${kind} ${rtp.encodings?.length} ${String(appData.r2talker)}`);
        return { id: `p-${kind}` };
      },
    }, { head });
    expect(signalled).toEqual(['connect true', 'produce video 3 face', 'produce audio 1 voice']);
    expect([produced.video.id, produced.audio.id]).toEqual(['p-video', 'p-audio']);
    await produced.close();
    t.close();
  });
});
