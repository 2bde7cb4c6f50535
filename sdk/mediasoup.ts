/**
 * mediasoup (mediasoup-client) glue: produce a talking head's face and voice on a send
 * transport, with mediasoup's own track semantics (stopTracks, disableTrackOnPause) kept.
 */
import type { types } from 'mediasoup-client';
import { simulcastLayers } from './encodings.ts';
import { TalkingHeadError } from './errors.ts';
import type { AvatarInput, TalkingHeadOptions } from './options.ts';
import { createTalkingHead, type TalkingHead } from './talking-head.ts';

type Producer = types.Producer;
type Transport = types.Transport;

export interface ProduceTalkingHeadOptions extends Partial<TalkingHeadOptions> {
  /** Produce this running head instead of creating one (it stays the caller's to stop). */
  head?: TalkingHead;
  /**
   * As in transport.produce (default true): closing a producer stops its track. A head this
   * call created is stopped as a whole on close() either way.
   */
  stopTracks?: boolean;
  /** As in transport.produce (default true): pause() sets track.enabled = false. */
  disableTrackOnPause?: boolean;
  /** As in transport.produce (default false): send no RTP at all while paused. */
  zeroRtpOnPause?: boolean;
  /** Send simulcast layers (default true); false sends one encoding. */
  simulcast?: boolean;
  videoCodecOptions?: types.ProducerCodecOptions;
  audioCodecOptions?: types.ProducerCodecOptions;
  appData?: types.AppData;
}

export interface ProducedTalkingHead {
  readonly head: TalkingHead;
  readonly video: Producer;
  readonly audio: Producer;
  /** Pauses both producers (the far end sees the face freeze and hears silence). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** Changes the face in place: same tracks, nothing renegotiated. */
  setAvatar(avatar: AvatarInput): Promise<void>;
  /**
   * Moves both producers onto another head with producer.replaceTrack (e.g. one pre-started
   * with the next avatar, so the switch shows no render gap). The previous head is stopped if
   * this call created it; the new one stays the caller's.
   */
  replaceHead(next: TalkingHead): Promise<void>;
  /** Closes both producers (and the head this call created). Idempotent. */
  close(): Promise<void>;
}

/** RTP encodings lowest layer first, as mediasoup expects for simulcast. */
export function faceEncodings(head: TalkingHead, simulcast: boolean): types.RtpEncodingParameters[] {
  const { size, frameRate } = head.stats();
  const layers = simulcastLayers(size, frameRate);
  const used = simulcast ? layers : layers.slice(-1);
  return used.map((l) => ({ scaleResolutionDownBy: l.scaleResolutionDownBy, maxBitrate: l.maxBitrate, maxFramerate: l.maxFramerate }));
}

export async function produceTalkingHead(transport: Transport, options: ProduceTalkingHeadOptions): Promise<ProducedTalkingHead> {
  if (!transport || typeof transport.produce !== 'function' || transport.direction !== 'send') {
    throw new TalkingHeadError('INVALID_OPTION', 'sendTransport: expected a mediasoup-client send Transport', 'sendTransport');
  }
  if (transport.closed) throw new TalkingHeadError('INVALID_OPTION', 'sendTransport: the transport is closed', 'sendTransport');
  const stopTracks = options.stopTracks ?? true;
  const disableTrackOnPause = options.disableTrackOnPause ?? true;
  const zeroRtpOnPause = options.zeroRtpOnPause ?? false;
  let owned = !options.head;
  let head = options.head ?? (await createTalkingHead(options as TalkingHeadOptions));
  if (head.stopped) throw new TalkingHeadError('STOPPED', 'head: this talking head was stopped', 'head');

  let video: Producer | null = null;
  let audio: Producer;
  try {
    video = await transport.produce({
      track: head.videoTrack,
      encodings: faceEncodings(head, options.simulcast ?? true),
      codecOptions: options.videoCodecOptions,
      stopTracks,
      disableTrackOnPause,
      zeroRtpOnPause,
      appData: { ...options.appData, r2talker: 'face' },
    });
    audio = await transport.produce({
      track: head.audioTrack,
      codecOptions: { opusDtx: true, opusFec: true, ...options.audioCodecOptions },
      stopTracks,
      disableTrackOnPause,
      zeroRtpOnPause,
      appData: { ...options.appData, r2talker: 'voice' },
    });
  } catch (e) {
    video?.close();
    if (owned) await head.stop();
    throw new TalkingHeadError('PUBLISH_FAILED', `producing the talking head failed (${e instanceof Error ? e.message : String(e)})`, null, { cause: e });
  }
  const v = video;
  let closed = false;
  return {
    get head() {
      return head;
    },
    video: v,
    audio,
    pause() {
      v.pause();
      audio.pause();
    },
    resume() {
      v.resume();
      audio.resume();
    },
    get paused() {
      return v.paused && audio.paused;
    },
    setAvatar: (avatar) => head.setAvatar(avatar),
    async replaceHead(next) {
      if (closed) throw new TalkingHeadError('STOPPED', 'the producers are closed');
      if (next.stopped) throw new TalkingHeadError('STOPPED', 'next: this talking head was stopped', 'next');
      await v.replaceTrack({ track: next.videoTrack });
      await audio.replaceTrack({ track: next.audioTrack });
      const previous = head;
      const previousOwned = owned;
      head = next;
      owned = false;
      if (previousOwned) await previous.stop();
    },
    async close() {
      if (closed) return;
      closed = true;
      v.close();
      audio.close();
      if (owned) await head.stop();
    },
  };
}
