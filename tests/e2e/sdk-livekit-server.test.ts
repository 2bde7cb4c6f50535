/**
 * The LiveKit test bed itself: the pinned server builds and starts in its own namespace,
 * tokens minted with livekit-server-sdk admit participants, and media really flows between
 * two @livekit/rtc-node participants (a solid colour published is the colour received).
 * Every other LiveKit test stands on this.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalVideoTrack, Room, RoomEvent, TrackKind, TrackPublishOptions, TrackSource, VideoBufferType, VideoFrame, VideoSource, VideoStream, type RemoteTrack } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { API_KEY, API_SECRET, startLiveKitServer, type LiveKitServer } from './helpers/livekit-server.ts';

let server: LiveKitServer;

beforeAll(async () => {
  server = await startLiveKitServer();
}, 600_000);

afterAll(async () => {
  await server?.stop();
});

function solid(width: number, height: number, rgb: [number, number, number]): VideoFrame {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
  return new VideoFrame(data, width, height, VideoBufferType.RGBA);
}

function meanRgb(frame: VideoFrame): [number, number, number] {
  const rgba = frame.convert(VideoBufferType.RGBA);
  const d = rgba.data;
  const sum = [0, 0, 0];
  const n = rgba.width * rgba.height;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) sum[c]! += d[i * 4 + c]!;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

describe('LiveKit test server', () => {
  it('rejects a token signed with the wrong secret', async () => {
    const room = new Room();
    const { AccessToken } = await import('livekit-server-sdk');
    const at = new AccessToken(API_KEY, 'not-the-secret', { identity: 'intruder' });
    at.addGrant({ roomJoin: true, room: 'smoke' });
    await expect(room.connect(server.url, await at.toJwt(), { autoSubscribe: false, dynacast: false })).rejects.toThrow();
    await room.disconnect();
  });

  it('carries a published video track to a subscriber', async () => {
    const roomName = `smoke-${Date.now()}`;
    const publisher = new Room();
    const subscriber = new Room();
    const colour: [number, number, number] = [200, 40, 90];
    let timer: ReturnType<typeof setInterval> | undefined;
    try {
      await publisher.connect(server.url, await server.token('publisher', roomName), { autoSubscribe: false, dynacast: false });
      const source = new VideoSource(128, 96);
      const track = LocalVideoTrack.createVideoTrack('card', source);
      await publisher.localParticipant!.publishTrack(track, new TrackPublishOptions({ source: TrackSource.SOURCE_CAMERA, simulcast: false }));
      let ts = 0n;
      timer = setInterval(() => {
        source.captureFrame(solid(128, 96, colour), ts);
        ts += 66_000n;
      }, 66);

      const gotTrack = new Promise<RemoteTrack>((resolve) => {
        subscriber.on(RoomEvent.TrackSubscribed, (t) => {
          if (t.kind === TrackKind.KIND_VIDEO) resolve(t);
        });
      });
      await subscriber.connect(server.url, await server.token('subscriber', roomName), { autoSubscribe: true, dynacast: false });
      const remote = await Promise.race([gotTrack, new Promise<never>((_, r) => setTimeout(() => r(new Error(`no track subscribed; server log:\n${server.log().slice(-2000)}`)), 20_000))]);

      // Both participants are known to the server itself, not only to each other.
      const rooms = new RoomServiceClient(server.url.replace('ws://', 'http://'), API_KEY, API_SECRET);
      const identities = (await rooms.listParticipants(roomName)).map((p) => p.identity).sort();
      expect(identities).toEqual(['publisher', 'subscriber']);

      const reader = new VideoStream(remote).getReader();
      let received: [number, number, number] | null = null;
      for (let i = 0; i < 60; i++) {
        const { value, done } = await reader.read();
        if (done) break;
        // The first frames after a keyframe request may still be converging; take a later one.
        if (i >= 5) {
          received = meanRgb(value.frame);
          break;
        }
      }
      reader.releaseLock();
      expect(received).not.toBeNull();
      // VP8 + YUV 4:2:0 round trip of a flat colour: within a few levels.
      for (let c = 0; c < 3; c++) expect(Math.abs(received![c]! - colour[c]!)).toBeLessThan(12);
    } finally {
      if (timer) clearInterval(timer);
      await subscriber.disconnect();
      await publisher.disconnect();
    }
  });
});
