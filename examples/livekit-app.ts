/**
 * Example: a LiveKit web app joins a room as a talking head (tests/e2e/sdk-livekit-publish.test.ts
 * runs it). The app serves the engine files from the build's dist/extension/ (engine-worker.js,
 * render-worker.js, render-band-worker.js, mic-tap.js, default-generator.bin) under `engineUrl`, on its own origin.
 */
import { Room } from 'livekit-client';
import { publishTalkingHead, type PublishedTalkingHead } from '../sdk/index.ts';

export interface JoinOptions {
  url: string;
  token: string;
  /** The .r2t avatar (URL, bytes, File) or null for the built-in head. */
  avatar: string | ArrayBuffer | Blob | null;
  engineUrl: string;
  /** Passed through to createTalkingHead (size, frameRate, backend, ...). */
  head?: Record<string, unknown>;
}

export async function joinAsTalkingHead(opts: JoinOptions): Promise<{ room: Room; published: PublishedTalkingHead }> {
  const room = new Room({ adaptiveStream: true, dynacast: true });
  await room.connect(opts.url, opts.token);
  try {
    // The face goes out as the camera (simulcast), the lip-synced voice as the microphone.
    const published = await publishTalkingHead(room, { avatar: opts.avatar, microphone: true, engineUrl: opts.engineUrl, ...opts.head });
    return { room, published };
  } catch (e) {
    await room.disconnect();
    throw e;
  }
}

/** Leaving: unpublish (which stops the head, its microphone and its engine), then disconnect. */
export async function leave(room: Room, published: PublishedTalkingHead): Promise<void> {
  await published.unpublish();
  await room.disconnect();
}
