/**
 * Makes a generator track (and its clones) answer like a camera track: label, settings,
 * capabilities, constraints, applyConstraints, clone and stop are own properties of the
 * instance, so the page sees camera values while the platform object keeps working
 * (RTCPeerConnection, MediaRecorder, <video>).
 */
import type { CameraSource, CameraStats } from './camera-source.ts';
import { checkEnumConstraints, deviceIdsOf, resolveVideo, type VideoTarget } from './constraints.ts';
import { DEVICE_LABEL, cameraCapabilities, type FakeDeviceIds } from './fake-device.ts';
import { defineGetter, defineMethod, overconstrained, type Natives } from './natives.ts';

export interface TrackContext {
  source: CameraSource;
  ids: FakeDeviceIds;
  natives: Natives;
  /** The user's default output size, used where constraints leave the size open. */
  defaults: () => VideoTarget;
}

/** Validates `constraints` for this camera and returns the settings they select, or throws OverconstrainedError. */
export function selectSettings(constraints: unknown, ids: FakeDeviceIds, defaults: VideoTarget) {
  const devices = deviceIdsOf(constraints);
  if (devices.exact.length > 0 && !devices.exact.includes(ids.deviceId)) throw overconstrained('deviceId', 'Cannot satisfy deviceId');
  const enumFailure = checkEnumConstraints(constraints);
  if (enumFailure) throw overconstrained(enumFailure, `Cannot satisfy ${enumFailure}`);
  const r = resolveVideo(constraints, defaults);
  if (!r.ok) throw overconstrained(r.constraint, r.message);
  return r.value;
}

export function dressCameraTrack(track: MediaStreamTrack, ctx: TrackContext, constraints: MediaTrackConstraints): MediaStreamTrack {
  const { source, ids, natives } = ctx;
  let current: MediaTrackConstraints = constraints;
  // A live track is kept alive by the platform, so a dropped-but-unstopped track keeps its
  // session (as a real camera keeps its light on): only stop() releases it.
  const state = { stopped: false };
  source.addRef();

  defineGetter(track, 'label', () => DEVICE_LABEL);
  defineMethod(track, 'getSettings', (): MediaTrackSettings => {
    const s = source.settings;
    // resizeMode is missing from TypeScript's DOM lib.
    const settings: MediaTrackSettings & { resizeMode: string } = {
      deviceId: ids.deviceId,
      groupId: ids.groupId,
      width: s.width,
      height: s.height,
      frameRate: s.frameRate,
      aspectRatio: s.aspectRatio,
      facingMode: 'user',
      resizeMode: 'none',
    };
    return settings;
  });
  defineMethod(track, 'getCapabilities', () => cameraCapabilities(ids));
  defineMethod(track, 'getConstraints', () => structuredClone(current));
  defineMethod(track, 'applyConstraints', async (c?: MediaTrackConstraints): Promise<void> => {
    const next = c ?? {};
    if (typeof next !== 'object' || next === null) throw new TypeError("Failed to execute 'applyConstraints' on 'MediaStreamTrack': The provided value is not of type 'MediaTrackConstraints'.");
    if (state.stopped || track.readyState === 'ended') return;
    const settings = selectSettings(next, ids, ctx.defaults());
    current = next;
    source.configure(settings);
  });
  defineMethod(track, 'clone', (): MediaStreamTrack => {
    const copy = natives.trackClone.call(track);
    return dressCameraTrack(copy, ctx, current);
  });
  defineMethod(track, 'stop', (): void => {
    natives.trackStop.call(track);
    if (state.stopped) return;
    state.stopped = true;
    source.release();
  });
  /** Non-standard: the engine's real render rate and transport counters, for apps and tests. */
  defineMethod(track, 'getR2TalkerStats', (): CameraStats => source.stats());
  // The generator's own prototype would expose `writable`; a camera track is a plain MediaStreamTrack.
  try {
    Object.setPrototypeOf(track, MediaStreamTrack.prototype);
  } catch {
    // keep the generator prototype; the overrides above still apply
  }
  return track;
}
