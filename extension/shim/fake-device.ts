/**
 * The fake camera as enumerateDevices reports it. Meet calls getCapabilities() on every
 * InputDeviceInfo, and a plain object throws "Illegal invocation" on the prototype's
 * accessors, so the device is made from InputDeviceInfo.prototype with own properties.
 */
import { CAMERA_CAPABILITIES } from './constraints.ts';

export const DEVICE_LABEL = 'R2 Talker';

/** 64 hex characters like Chrome's own ids, stable per origin (so ids cannot track users across sites). */
export function stableId(salt: string, origin: string): string {
  const input = `${salt}|${origin}`;
  let out = '';
  for (let k = 0; k < 8; k++) {
    // FNV-1a with a different offset per word: cheap, synchronous, deterministic.
    let h = (0x811c9dc5 ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < input.length; i++) {
      h ^= input.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, '0');
  }
  return out;
}

export interface FakeDeviceIds {
  deviceId: string;
  groupId: string;
}

export function fakeDeviceIds(origin: string): FakeDeviceIds {
  return { deviceId: stableId('r2talker-camera', origin), groupId: stableId('r2talker-group', origin) };
}

export function cameraCapabilities(ids: FakeDeviceIds): MediaTrackCapabilities {
  const c = CAMERA_CAPABILITIES;
  // resizeMode is missing from TypeScript's DOM lib.
  const caps: MediaTrackCapabilities & { resizeMode: string[] } = {
    deviceId: ids.deviceId,
    groupId: ids.groupId,
    width: { ...c.width },
    height: { ...c.height },
    aspectRatio: { ...c.aspectRatio },
    frameRate: { ...c.frameRate },
    facingMode: ['user'],
    resizeMode: ['none', 'crop-and-scale'],
  };
  return caps;
}

export function makeFakeDevice(ids: FakeDeviceIds): InputDeviceInfo {
  const device = Object.create(InputDeviceInfo.prototype) as InputDeviceInfo;
  const fields = { deviceId: ids.deviceId, groupId: ids.groupId, kind: 'videoinput' as const, label: DEVICE_LABEL };
  for (const [k, v] of Object.entries(fields)) {
    Object.defineProperty(device, k, { value: v, enumerable: true, configurable: false, writable: false });
  }
  Object.defineProperty(device, 'getCapabilities', { value: () => cameraCapabilities(ids), configurable: true, writable: true });
  Object.defineProperty(device, 'toJSON', { value: () => ({ ...fields }), configurable: true, writable: true });
  return device;
}
