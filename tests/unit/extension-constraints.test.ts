import { describe, expect, it } from 'vitest';
import { checkEnumConstraints, deviceIdsOf, isDesktopCapture, normalizeLegacy, resolveVideo } from '../../extension/shim/constraints.ts';

const DEFAULTS = { width: 1280, height: 720, frameRate: 30 };

function ok(c: unknown) {
  const r = resolveVideo(c, DEFAULTS);
  if (!r.ok) throw new Error(`expected success, failed on ${r.constraint}`);
  return r.value;
}

function failsOn(c: unknown): string {
  const r = resolveVideo(c, DEFAULTS);
  if (r.ok) throw new Error(`expected failure, got ${r.value.width}x${r.value.height}@${r.value.frameRate}`);
  return r.constraint;
}

describe('resolveVideo', () => {
  it('uses the user default 1280x720@30 when nothing is constrained', () => {
    expect(ok(undefined)).toMatchObject({ width: 1280, height: 720, frameRate: 30 });
    expect(ok({})).toMatchObject({ width: 1280, height: 720, frameRate: 30 });
  });

  it('treats bare numbers as ideal and meets them when in range', () => {
    expect(ok({ width: 640, height: 480, frameRate: 15 })).toMatchObject({ width: 640, height: 480, frameRate: 15, aspectRatio: 640 / 480 });
  });

  it('clamps ideals into min/max and derives the missing side from the target aspect', () => {
    expect(ok({ width: { ideal: 4000 } })).toMatchObject({ width: 1920, height: 1080 });
    expect(ok({ width: { max: 640 } })).toMatchObject({ width: 640, height: 360 });
    expect(ok({ height: { min: 1080 } })).toMatchObject({ width: 1920, height: 1080 });
  });

  it('meets a Jitsi-style request: ideal 1280x720 within min/max and aspect 16:9', () => {
    expect(ok({ width: { ideal: 1280, max: 1280, min: 320 }, height: { ideal: 720, max: 720, min: 180 }, aspectRatio: 16 / 9 })).toMatchObject({ width: 1280, height: 720 });
  });

  it('honours an exact aspect ratio by adjusting the side the app did not fix', () => {
    const v = ok({ width: { exact: 960 }, aspectRatio: { exact: 4 / 3 } });
    expect(v).toMatchObject({ width: 960, height: 720 });
  });

  it('fails with the name of the first unsatisfiable constraint', () => {
    expect(failsOn({ width: { exact: 4000 } })).toBe('width');
    expect(failsOn({ height: { min: 2000 } })).toBe('height');
    expect(failsOn({ frameRate: { exact: 60 } })).toBe('frameRate');
    expect(failsOn({ width: { min: 800, max: 600 } })).toBe('width');
    expect(failsOn({ width: { exact: 1920 }, height: { exact: 1080 }, aspectRatio: { exact: 1 } })).toBe('aspectRatio');
  });

  it('applies satisfiable advanced sets in order and skips unsatisfiable ones', () => {
    expect(ok({ advanced: [{ width: 4000 }, { width: 320, height: 240 }] })).toMatchObject({ width: 320, height: 240 });
  });

  it('clamps the frame rate to the camera range', () => {
    expect(ok({ frameRate: { ideal: 60 } }).frameRate).toBe(30);
    expect(ok({ frameRate: { max: 10 } }).frameRate).toBe(10);
  });

  it('ignores non-finite numbers instead of propagating NaN', () => {
    expect(ok({ width: Number.NaN, height: { ideal: Infinity } })).toMatchObject({ width: 1280, height: 720 });
  });
});

describe('legacy and non-numeric constraints', () => {
  it('folds Chrome legacy mandatory/optional constraints into min/max and advanced', () => {
    const n = normalizeLegacy({ mandatory: { minWidth: 640, maxWidth: 640, minHeight: 480, maxHeight: 480, sourceId: 'abc' }, optional: [{ minFrameRate: 15 }] });
    expect(n).toEqual({ width: { min: 640, max: 640 }, height: { min: 480, max: 480 }, deviceId: { exact: 'abc' }, advanced: [{ frameRate: { min: 15 } }] });
    expect(ok({ mandatory: { minWidth: 640, maxWidth: 640, minHeight: 480, maxHeight: 480 } })).toMatchObject({ width: 640, height: 480 });
  });

  it('collects device ids by strength from strings, arrays, exact/ideal and legacy sourceId', () => {
    expect(deviceIdsOf({ deviceId: 'a' })).toEqual({ exact: [], ideal: ['a'] });
    expect(deviceIdsOf({ deviceId: ['a', 'b'] })).toEqual({ exact: [], ideal: ['a', 'b'] });
    expect(deviceIdsOf({ deviceId: { exact: 'a', ideal: 'b' } })).toEqual({ exact: ['a'], ideal: ['b'] });
    expect(deviceIdsOf({ mandatory: { sourceId: 'x' } })).toEqual({ exact: ['x'], ideal: [] });
  });

  it('rejects an exact facingMode other than user and an unknown exact resizeMode', () => {
    expect(checkEnumConstraints({ facingMode: { exact: 'environment' } })).toBe('facingMode');
    expect(checkEnumConstraints({ facingMode: { exact: 'user' } })).toBeNull();
    expect(checkEnumConstraints({ resizeMode: { exact: 'stretch' } })).toBe('resizeMode');
    expect(checkEnumConstraints({ facingMode: 'environment' })).toBeNull();
  });

  it('recognises legacy desktop capture requests so they pass through', () => {
    expect(isDesktopCapture({ mandatory: { chromeMediaSource: 'desktop', chromeMediaSourceId: 'x' } })).toBe(true);
    expect(isDesktopCapture({ width: 640 })).toBe(false);
  });
});
