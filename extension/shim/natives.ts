/**
 * Native functions captured at document_start, before any page script runs, so that page
 * code replacing them later cannot break or observe the shim.
 */
export interface Natives {
  enumerateDevices: MediaDevices['enumerateDevices'];
  getUserMedia: MediaDevices['getUserMedia'];
  trackStop: MediaStreamTrack['stop'];
  trackClone: MediaStreamTrack['clone'];
  trackApplyConstraints: MediaStreamTrack['applyConstraints'];
  trackGetSettings: MediaStreamTrack['getSettings'];
  trackGetCapabilities: MediaStreamTrack['getCapabilities'];
  trackGetConstraints: MediaStreamTrack['getConstraints'];
  labelGetter: (this: MediaStreamTrack) => string;
  dispatchEvent: EventTarget['dispatchEvent'];
}

export function captureNatives(): Natives {
  const md = MediaDevices.prototype;
  const t = MediaStreamTrack.prototype;
  const labelDesc = Object.getOwnPropertyDescriptor(t, 'label');
  const labelGetter = labelDesc?.get as ((this: MediaStreamTrack) => string) | undefined;
  if (!labelGetter) throw new Error('MediaStreamTrack.prototype.label has no getter');
  return {
    enumerateDevices: md.enumerateDevices,
    getUserMedia: md.getUserMedia,
    trackStop: t.stop,
    trackClone: t.clone,
    trackApplyConstraints: t.applyConstraints,
    trackGetSettings: t.getSettings,
    trackGetCapabilities: t.getCapabilities,
    trackGetConstraints: t.getConstraints,
    labelGetter,
    dispatchEvent: EventTarget.prototype.dispatchEvent,
  };
}

/** Defines an own, non-enumerable method on an instance (how the platform's look from outside). */
export function defineMethod<T extends object>(obj: T, name: string, fn: (...args: never[]) => unknown): void {
  Object.defineProperty(obj, name, { value: fn, configurable: true, writable: true, enumerable: false });
}

export function defineGetter<T extends object>(obj: T, name: string, get: () => unknown): void {
  Object.defineProperty(obj, name, { get, configurable: true, enumerable: false });
}

export function overconstrained(constraint: string, message: string): Error {
  if (typeof OverconstrainedError === 'function') return new OverconstrainedError(constraint, message);
  const e = new DOMException(message, 'OverconstrainedError');
  Object.defineProperty(e, 'constraint', { value: constraint });
  return e;
}
