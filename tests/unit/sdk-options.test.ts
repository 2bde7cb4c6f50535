/**
 * createTalkingHead's option checks and the simulcast ladder: every wrong input names its
 * field; the defaults are the documented ones; layers follow the output size.
 */
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../sdk/options.ts';
import { simulcastLayers } from '../../sdk/encodings.ts';
import { TalkingHeadError } from '../../sdk/errors.ts';
import { requireSupport, supportReport } from '../../sdk/support.ts';

const PAGE = 'http://app.test/call/room.html';
const audioTrack = { kind: 'audio', readyState: 'live' } as MediaStreamTrack;
const ok = { avatar: null, microphone: true, engineUrl: '/engine' };

function fails(o: unknown): TalkingHeadError {
  try {
    resolveOptions(o, PAGE);
  } catch (e) {
    expect(e).toBeInstanceOf(TalkingHeadError);
    return e as TalkingHeadError;
  }
  throw new Error(`accepted ${JSON.stringify(o)}`);
}

describe('resolveOptions', () => {
  it('fills the documented defaults and resolves engineUrl against the page as a folder', () => {
    const r = resolveOptions(ok, PAGE);
    expect(r).toMatchObject({ size: { width: 640, height: 480 }, frameRate: 25, backend: 'auto', renderMaxSide: 256, quality: 'auto', videoSink: 'auto', lipSyncOffsetMs: 0, idleBlinks: true, idleHeadMotion: true });
    expect(r.engineUrl.href).toBe('http://app.test/engine/');
    expect(r.audio).toEqual({ kind: 'microphone', constraints: true });
  });

  it('takes an audio track instead of the microphone', () => {
    expect(resolveOptions({ avatar: 'a.r2t', audioTrack, engineUrl: '/e/' }, PAGE).audio).toEqual({ kind: 'track', track: audioTrack });
  });

  it.each([
    [{ microphone: true, engineUrl: '/e/' }, 'avatar'],
    [{ ...ok, avatar: 42 }, 'avatar'],
    [{ ...ok, avatar: '' }, 'avatar'],
    [{ ...ok, audioTrack }, 'microphone|audioTrack'],
    [{ avatar: null, engineUrl: '/e/' }, 'microphone|audioTrack'],
    [{ avatar: null, engineUrl: '/e/', audioTrack: { kind: 'video', readyState: 'live' } }, 'audioTrack'],
    [{ avatar: null, engineUrl: '/e/', audioTrack: { kind: 'audio', readyState: 'ended' } }, 'audioTrack'],
    [{ ...ok, microphone: 'yes' }, 'microphone'],
    [{ ...ok, size: { width: 641, height: 480 } }, 'size.width'],
    [{ ...ok, size: { width: 640, height: 8 } }, 'size.height'],
    [{ ...ok, size: [640, 480] }, 'size.width'],
    [{ ...ok, frameRate: 61 }, 'frameRate'],
    [{ ...ok, frameRate: 24.5 }, 'frameRate'],
    [{ ...ok, engineUrl: 5 }, 'engineUrl'],
    [{ ...ok, engineUrl: 'https://cdn.example/engine/' }, 'engineUrl'],
    [{ ...ok, backend: 'webgl' }, 'backend'],
    [{ ...ok, renderMaxSide: 4096 }, 'renderMaxSide'],
    [{ ...ok, quality: 'turbo' }, 'quality'],
    [{ ...ok, videoSink: 'webcodecs' }, 'videoSink'],
    [{ ...ok, lipSyncOffsetMs: 900 }, 'lipSyncOffsetMs'],
    [{ ...ok, lipSyncOffsetMs: Number.NaN }, 'lipSyncOffsetMs'],
    [{ ...ok, idleBlinks: 'no' }, 'idleBlinks'],
  ])('refuses %j naming %s', (o, field) => {
    const e = fails(o);
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: expected`)).toBe(true);
  });

  it('refuses a non-object', () => {
    expect(fails(null).field).toBe('options');
  });
});

describe('simulcastLayers', () => {
  it('gives quarter, half and full size at 640x480, lowest first, bitrates rising', () => {
    const l = simulcastLayers({ width: 640, height: 480 }, 30);
    expect(l.map((x) => [x.width, x.height, x.scaleResolutionDownBy, x.maxFramerate])).toEqual([
      [160, 120, 4, 15],
      [320, 240, 2, 30],
      [640, 480, 1, 30],
    ]);
    expect(l[0]!.maxBitrate).toBeLessThan(l[1]!.maxBitrate);
    expect(l[1]!.maxBitrate).toBeLessThan(l[2]!.maxBitrate);
    expect(l[2]!.maxBitrate).toBeLessThanOrEqual(3_000_000);
  });

  it('keeps a single layer for a thumbnail-sized head and caps the bitrate at 4K', () => {
    expect(simulcastLayers({ width: 160, height: 120 }, 25)).toHaveLength(1);
    const big = simulcastLayers({ width: 3840, height: 2160 }, 60);
    expect(big.at(-1)!.maxBitrate).toBe(3_000_000);
  });
});

describe('browser support', () => {
  const full = { Worker() {}, OffscreenCanvas() {}, AudioWorkletNode() {}, MediaStream() {}, createImageBitmap() {}, MediaStreamTrackGenerator() {}, VideoFrame() {}, navigator: { gpu: {} } };

  it('prefers MediaStreamTrackGenerator and notes WebGPU', () => {
    expect(supportReport(full as unknown as typeof globalThis)).toEqual({ videoSink: 'generator', webgpu: true, missing: [] });
  });

  it('falls back to canvas.captureStream, and refuses a demanded generator it lacks', () => {
    const { MediaStreamTrackGenerator: _g, ...rest } = full;
    const g = { ...rest, HTMLCanvasElement: Object.assign(function () {}, { prototype: { captureStream() {} } }) } as unknown as typeof globalThis;
    expect(requireSupport('auto', g)).toBe('canvas');
    expect(() => requireSupport('generator', g)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_BROWSER', field: 'MediaStreamTrackGenerator' }));
  });

  it('names the first missing feature (Node has no AudioWorkletNode)', () => {
    const { AudioWorkletNode: _a, ...rest } = full;
    expect(() => requireSupport('auto', rest as unknown as typeof globalThis)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_BROWSER', field: 'AudioWorkletNode' }));
  });
});
