/**
 * LiveKit (livekit-client) glue: publish a talking head as the participant's camera and
 * microphone, or put it behind an app's existing microphone as an audio TrackProcessor.
 */
import { Track, VideoPreset, type AudioProcessorOptions, type LocalTrackPublication, type Room, type TrackProcessor, type TrackPublishOptions } from 'livekit-client';
import { simulcastLayers } from './encodings.ts';
import { TalkingHeadError } from './errors.ts';
import type { AvatarInput, TalkingHeadOptions } from './options.ts';
import { createTalkingHead, type TalkingHead } from './talking-head.ts';

export interface PublishTalkingHeadOptions extends Partial<TalkingHeadOptions> {
  /** Publish this running head instead of creating one (it is then the caller's to stop). */
  head?: TalkingHead;
  /** Merged over the defaults (Camera source, simulcast, layers from the output size). */
  videoPublishOptions?: TrackPublishOptions;
  /** Merged over the defaults (Microphone source, DTX and RED on). */
  audioPublishOptions?: TrackPublishOptions;
}

export interface PublishedTalkingHead {
  head: TalkingHead;
  video: LocalTrackPublication;
  audio: LocalTrackPublication;
  /** Changes the face in place: same track, same publication, no renegotiation. */
  setAvatar(avatar: AvatarInput): Promise<void>;
  /** Unpublishes both tracks; stops the head when publishTalkingHead created it. */
  unpublish(): Promise<void>;
}

/** Publish options for the face: Camera source, simulcast layers sized for the head. */
export function faceVideoPublishOptions(head: TalkingHead, overrides: TrackPublishOptions = {}): TrackPublishOptions {
  const { size, frameRate } = head.stats();
  const layers = simulcastLayers(size, frameRate);
  const top = layers[layers.length - 1]!;
  return {
    name: 'r2talker-face',
    source: Track.Source.Camera,
    simulcast: layers.length > 1,
    videoEncoding: { maxBitrate: top.maxBitrate, maxFramerate: top.maxFramerate },
    // livekit-client wants the extra (lower) layers only, lowest first.
    videoSimulcastLayers: layers.slice(0, -1).map((l) => new VideoPreset(l.width, l.height, l.maxBitrate, l.maxFramerate)),
    ...overrides,
  };
}

export function voiceAudioPublishOptions(overrides: TrackPublishOptions = {}): TrackPublishOptions {
  return { name: 'r2talker-voice', source: Track.Source.Microphone, dtx: true, red: true, ...overrides };
}

async function publishVideo(room: Room, head: TalkingHead, overrides?: TrackPublishOptions): Promise<LocalTrackPublication> {
  try {
    return await room.localParticipant.publishTrack(head.videoTrack, faceVideoPublishOptions(head, overrides));
  } catch (e) {
    throw new TalkingHeadError('PUBLISH_FAILED', `publishing the face failed (${e instanceof Error ? e.message : String(e)})`, null, { cause: e });
  }
}

/**
 * Publishes the face (Track.Source.Camera) and the delayed voice (Track.Source.Microphone).
 * With `head` omitted, creates one from the options (avatar, microphone|audioTrack, ...).
 */
export async function publishTalkingHead(room: Room, options: PublishTalkingHeadOptions): Promise<PublishedTalkingHead> {
  if (!room?.localParticipant) throw new TalkingHeadError('INVALID_OPTION', 'room: expected a connected livekit-client Room', 'room');
  const owned = !options.head;
  const head = options.head ?? (await createTalkingHead(options as TalkingHeadOptions));
  if (head.stopped) throw new TalkingHeadError('STOPPED', 'head: this talking head was stopped', 'head');
  let video: LocalTrackPublication | null = null;
  try {
    video = await publishVideo(room, head, options.videoPublishOptions);
    let audio: LocalTrackPublication;
    try {
      audio = await room.localParticipant.publishTrack(head.audioTrack, voiceAudioPublishOptions(options.audioPublishOptions));
    } catch (e) {
      throw new TalkingHeadError('PUBLISH_FAILED', `publishing the voice failed (${e instanceof Error ? e.message : String(e)})`, null, { cause: e });
    }
    let unpublished = false;
    return {
      head,
      video,
      audio,
      setAvatar: (avatar) => head.setAvatar(avatar),
      async unpublish() {
        if (unpublished) return;
        unpublished = true;
        // Never let LiveKit stop the tracks: the head owns them and ends them in stop().
        await room.localParticipant.unpublishTrack(head.videoTrack, false).catch(() => undefined);
        await room.localParticipant.unpublishTrack(head.audioTrack, false).catch(() => undefined);
        if (owned) await head.stop();
      },
    };
  } catch (e) {
    if (video) await room.localParticipant.unpublishTrack(head.videoTrack, false).catch(() => undefined);
    if (owned) await head.stop();
    throw e;
  }
}

export type TalkingHeadProcessorOptions = Omit<TalkingHeadOptions, 'microphone' | 'audioTrack'> & {
  videoPublishOptions?: TrackPublishOptions;
};

/**
 * For apps that already publish a microphone: `micTrack.setProcessor(new
 * TalkingHeadAudioProcessor(opts))`. The processed audio is the voice delayed for lip sync,
 * and when the microphone is published the face is published beside it as the camera.
 */
export class TalkingHeadAudioProcessor implements TrackProcessor<Track.Kind.Audio, AudioProcessorOptions> {
  readonly name = 'r2talker-talking-head';
  processedTrack?: MediaStreamTrack;
  head: TalkingHead | null = null;
  private room: Room | null = null;
  private face: LocalTrackPublication | null = null;

  constructor(private readonly options: TalkingHeadProcessorOptions) {}

  async init(opts: AudioProcessorOptions): Promise<void> {
    this.head = await createTalkingHead({ ...this.options, audioTrack: opts.track });
    this.processedTrack = this.head.audioTrack;
  }

  async restart(opts: AudioProcessorOptions): Promise<void> {
    // A new source track (device switch): keep the face published, swap only what feeds it.
    const old = this.head;
    await this.init(opts);
    if (this.room && this.face && this.head) {
      await this.face.videoTrack?.replaceTrack(this.head.videoTrack, true);
    }
    await old?.stop();
  }

  async onPublish(room: Room): Promise<void> {
    if (!this.head) throw new TalkingHeadError('STOPPED', 'the processor was not initialised');
    this.room = room;
    this.face = await publishVideo(room, this.head, this.options.videoPublishOptions);
  }

  async onUnpublish(): Promise<void> {
    if (this.room && this.head) await this.room.localParticipant.unpublishTrack(this.head.videoTrack, false).catch(() => undefined);
    this.face = null;
    this.room = null;
  }

  async destroy(): Promise<void> {
    await this.onUnpublish();
    await this.head?.stop();
    this.head = null;
    this.processedTrack = undefined;
  }
}
