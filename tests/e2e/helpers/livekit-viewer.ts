/**
 * The far end of a LiveKit call, in the test process: an @livekit/rtc-node participant that
 * subscribes to everything and hands the test each decoded video frame (RGBA) and each 10 ms
 * of audio (RMS), stamped with the arrival time on this process's clock.
 */
import { AudioStream, Room, RoomEvent, TrackKind, TrackSource, VideoBufferType, VideoStream, type RemoteParticipant, type RemoteTrack, type RemoteTrackPublication } from '@livekit/rtc-node';
import type { LiveKitServer } from './livekit-server.ts';

export interface Subscribed {
  identity: string;
  sid: string;
  kind: 'video' | 'audio';
  source: 'camera' | 'microphone' | 'other';
  simulcasted: boolean;
  track: RemoteTrack;
}

export type VideoSink = (arrivalMs: number, rgba: Uint8Array, width: number, height: number) => void;
export type AudioSink = (arrivalMs: number, rms: number) => void;

export class Viewer {
  readonly subscribed: Subscribed[] = [];
  readonly unpublished: { identity: string; sid: string }[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly readers: ReadableStreamDefaultReader<unknown>[] = [];

  private constructor(readonly room: Room) {
    room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant) => {
      const source = pub.source === TrackSource.SOURCE_CAMERA ? 'camera' : pub.source === TrackSource.SOURCE_MICROPHONE ? 'microphone' : 'other';
      this.subscribed.push({ identity: p.identity, sid: pub.sid ?? '', kind: track.kind === TrackKind.KIND_VIDEO ? 'video' : 'audio', source, simulcasted: pub.simulcasted ?? false, track });
      this.wake();
    });
    room.on(RoomEvent.TrackUnpublished, (pub: RemoteTrackPublication, p: RemoteParticipant) => {
      this.unpublished.push({ identity: p.identity, sid: pub.sid ?? '' });
      this.wake();
    });
  }

  static async join(server: LiveKitServer, roomName: string, identity = 'viewer'): Promise<Viewer> {
    const room = new Room();
    const v = new Viewer(room);
    await room.connect(server.url, await server.token(identity, roomName), { autoSubscribe: true, dynacast: false });
    return v;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `pred` holds (checked on every subscription/unpublish event). */
  async until<T>(what: string, pred: () => T | undefined | null | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`viewer: timed out waiting for ${what}; subscribed: ${JSON.stringify(this.subscribed.map(({ track: _t, ...s }) => s))}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  track(identity: string, kind: 'video' | 'audio'): Promise<Subscribed> {
    return this.until(`${identity}'s ${kind}`, () => this.subscribed.filter((s) => s.identity === identity && s.kind === kind).at(-1));
  }

  /** Feeds every decoded frame of `track` to `sink` until stop(). */
  watchVideo(track: RemoteTrack, sink: VideoSink): void {
    const reader = new VideoStream(track).getReader();
    this.readers.push(reader as ReadableStreamDefaultReader<unknown>);
    void (async () => {
      for (;;) {
        const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return;
        const rgba = r.value.frame.convert(VideoBufferType.RGBA);
        sink(performance.now(), rgba.data, rgba.width, rgba.height);
      }
    })();
  }

  /** Feeds the RMS (int16 full scale = 1) of every 10 ms of `track`'s audio to `sink`. */
  watchAudio(track: RemoteTrack, sink: AudioSink): void {
    const reader = new AudioStream(track, 48000, 1).getReader();
    this.readers.push(reader as ReadableStreamDefaultReader<unknown>);
    void (async () => {
      for (;;) {
        const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return;
        const d = r.value.data;
        const hop = 480;
        const now = performance.now();
        const chunks = Math.max(1, Math.floor(d.length / hop));
        for (let c = 0; c < chunks; c++) {
          let s = 0;
          const end = Math.min(d.length, (c + 1) * hop);
          for (let i = c * hop; i < end; i++) s += (d[i]! / 32768) ** 2;
          // Chunks of one frame arrived together; spread them back over the frame's span.
          sink(now - (chunks - 1 - c) * 10, Math.sqrt(s / Math.max(1, end - c * hop)));
        }
      }
    })();
  }

  async leave(): Promise<void> {
    for (const r of this.readers.splice(0)) await r.cancel().catch(() => undefined);
    await this.room.disconnect();
  }
}
