/**
 * Constraint resolution for the fake camera, as a real camera with crop-and-scale would
 * behave: `exact`, `min` and `max` are hard (failing one names it in an
 * OverconstrainedError), bare values and `ideal` are targets, `advanced` sets are tried in
 * order and skipped when unsatisfiable. Chrome's legacy `mandatory`/`optional` form is
 * accepted too. Pure: no DOM, so it is unit-tested in Node.
 */

export interface Range {
  min: number;
  max: number;
}

export interface CameraCapabilities {
  width: Range;
  height: Range;
  aspectRatio: Range;
  frameRate: Range;
}

export interface VideoTarget {
  width: number;
  height: number;
  frameRate: number;
}

export interface ResolvedVideo extends VideoTarget {
  aspectRatio: number;
}

export type Resolution = { ok: true; value: ResolvedVideo } | { ok: false; constraint: string; message: string };

export const CAMERA_CAPABILITIES: CameraCapabilities = {
  width: { min: 1, max: 1920 },
  height: { min: 1, max: 1080 },
  aspectRatio: { min: 1 / 1080, max: 1920 },
  frameRate: { min: 1, max: 30 },
};

type NumProp = 'width' | 'height' | 'aspectRatio' | 'frameRate';
const NUM_PROPS: readonly NumProp[] = ['width', 'height', 'aspectRatio', 'frameRate'];

interface Parsed {
  exact?: number;
  ideal?: number;
  min?: number;
  max?: number;
}

type Ranges = Record<NumProp, Range>;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Bare numbers are `ideal` in the basic set and `exact` in advanced sets (spec). */
function parseNumeric(v: unknown, bareIsExact: boolean): Parsed | null {
  const n = num(v);
  if (n !== undefined) return bareIsExact ? { exact: n } : { ideal: n };
  if (!isRecord(v)) return null;
  const p: Parsed = { exact: num(v.exact), ideal: num(v.ideal), min: num(v.min), max: num(v.max) };
  return p.exact === undefined && p.ideal === undefined && p.min === undefined && p.max === undefined ? null : p;
}

/** Folds Chrome's legacy constraints ({ mandatory: { minWidth }, optional: [...] }) into the modern form. */
export function normalizeLegacy(c: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(c.mandatory) && !Array.isArray(c.optional)) return c;
  const legacyKeys: Record<string, [NumProp, 'min' | 'max']> = {
    minWidth: ['width', 'min'],
    maxWidth: ['width', 'max'],
    minHeight: ['height', 'min'],
    maxHeight: ['height', 'max'],
    minAspectRatio: ['aspectRatio', 'min'],
    maxAspectRatio: ['aspectRatio', 'max'],
    minFrameRate: ['frameRate', 'min'],
    maxFrameRate: ['frameRate', 'max'],
  };
  const fold = (src: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, Record<string, unknown> | unknown> = {};
    for (const [k, v] of Object.entries(src)) {
      const map = legacyKeys[k];
      if (map && num(v) !== undefined) {
        const cur = (out[map[0]] as Record<string, unknown> | undefined) ?? {};
        cur[map[1]] = v;
        out[map[0]] = cur;
      } else if (k === 'sourceId' && typeof v === 'string') {
        out.deviceId = { exact: v };
      }
    }
    return out;
  };
  const basic = isRecord(c.mandatory) ? fold(c.mandatory) : {};
  const advanced = Array.isArray(c.optional) ? c.optional.slice(0, 64).filter(isRecord).map(fold) : [];
  return { ...basic, advanced };
}

function applyHard(ranges: Ranges, set: Record<string, unknown>, bareIsExact: boolean): string | null {
  for (const prop of NUM_PROPS) {
    const p = parseNumeric(set[prop], bareIsExact);
    if (!p) continue;
    const r = ranges[prop];
    let lo = r.min;
    let hi = r.max;
    if (p.exact !== undefined) {
      lo = Math.max(lo, p.exact);
      hi = Math.min(hi, p.exact);
    }
    if (p.min !== undefined) lo = Math.max(lo, p.min);
    if (p.max !== undefined) hi = Math.min(hi, p.max);
    // Width/height must allow at least one integer.
    if (prop === 'width' || prop === 'height') {
      lo = Math.ceil(lo - 1e-9);
      hi = Math.floor(hi + 1e-9);
    }
    if (lo > hi) return prop;
    ranges[prop] = { min: lo, max: hi };
  }
  return null;
}

/** Whether integer sizes within the ranges can meet the aspect range. */
function jointlyFeasible(r: Ranges): boolean {
  return r.aspectRatio.min <= r.width.max / r.height.min + 1e-9 && r.aspectRatio.max >= r.width.min / r.height.max - 1e-9;
}

const clamp = (v: number, r: Range): number => Math.min(r.max, Math.max(r.min, v));

function ideals(set: Record<string, unknown>): Partial<Record<NumProp, number>> {
  const out: Partial<Record<NumProp, number>> = {};
  for (const prop of NUM_PROPS) {
    const p = parseNumeric(set[prop], false);
    const v = p?.ideal ?? p?.exact;
    if (v !== undefined) out[prop] = v;
  }
  return out;
}

function chooseSize(r: Ranges, want: Partial<Record<NumProp, number>>, defaults: VideoTarget): { width: number; height: number } | null {
  const aspect = want.aspectRatio ?? (want.width !== undefined && want.height !== undefined ? want.width / want.height : defaults.width / defaults.height);
  const widthGiven = want.width !== undefined;
  const heightGiven = want.height !== undefined;
  let w = want.width ?? (heightGiven ? (want.height as number) * aspect : widthGivenDefault(defaults, want, aspect));
  let h = want.height ?? w / aspect;
  w = clamp(Math.round(w), r.width);
  // A dimension the app did not ask for follows the other one at the target aspect.
  if (!heightGiven) h = w / aspect;
  h = clamp(Math.round(h), r.height);
  if (!widthGiven) w = clamp(Math.round(h * aspect), r.width);
  const a = r.aspectRatio;
  if (w / h < a.min - 1e-9) {
    const w2 = Math.ceil(h * a.min - 1e-9);
    if (w2 <= r.width.max) w = w2;
    else {
      w = r.width.max;
      h = clamp(Math.floor(w / a.min + 1e-9), r.height);
    }
  } else if (w / h > a.max + 1e-9) {
    const h2 = Math.ceil(w / a.max - 1e-9);
    if (h2 <= r.height.max) h = h2;
    else {
      h = r.height.max;
      w = clamp(Math.floor(h * a.max + 1e-9), r.width);
    }
  }
  const ratio = w / h;
  const ok = w >= r.width.min && w <= r.width.max && h >= r.height.min && h <= r.height.max && ratio >= a.min - 1e-6 && ratio <= a.max + 1e-6;
  return ok ? { width: w, height: h } : null;
}

function widthGivenDefault(defaults: VideoTarget, want: Partial<Record<NumProp, number>>, aspect: number): number {
  // Only an aspect was asked for: keep the default height band (720p stays 720p).
  return want.aspectRatio !== undefined ? defaults.height * aspect : defaults.width;
}

/**
 * Resolves `constraints` (the `video` member of getUserMedia, or applyConstraints' argument)
 * to concrete output settings. `defaults` is what the user chose in the popup.
 */
export function resolveVideo(constraints: unknown, defaults: VideoTarget, caps: CameraCapabilities = CAMERA_CAPABILITIES): Resolution {
  const set = isRecord(constraints) ? normalizeLegacy(constraints) : {};
  const ranges: Ranges = {
    width: { ...caps.width },
    height: { ...caps.height },
    aspectRatio: { ...caps.aspectRatio },
    frameRate: { ...caps.frameRate },
  };
  const failed = applyHard(ranges, set, false);
  if (failed) return { ok: false, constraint: failed, message: `Cannot satisfy ${failed}` };
  if (!jointlyFeasible(ranges)) return { ok: false, constraint: 'aspectRatio', message: 'Cannot satisfy aspectRatio with the width and height ranges' };
  let want = ideals(set);
  const advanced = Array.isArray(set.advanced) ? set.advanced.slice(0, 64) : [];
  for (const adv of advanced) {
    if (!isRecord(adv)) continue;
    const trial: Ranges = { width: { ...ranges.width }, height: { ...ranges.height }, aspectRatio: { ...ranges.aspectRatio }, frameRate: { ...ranges.frameRate } };
    if (applyHard(trial, adv, true) || !jointlyFeasible(trial)) continue;
    const wantTrial = { ...want, ...ideals(adv) };
    if (!chooseSize(trial, wantTrial, defaults)) continue;
    Object.assign(ranges, trial);
    want = wantTrial;
  }
  const size = chooseSize(ranges, want, defaults);
  if (!size) return { ok: false, constraint: 'aspectRatio', message: 'Cannot satisfy aspectRatio' };
  const frameRate = clamp(want.frameRate ?? defaults.frameRate, ranges.frameRate);
  return { ok: true, value: { ...size, frameRate, aspectRatio: size.width / size.height } };
}

/** The deviceId values a constraint names, split by strength. */
export function deviceIdsOf(constraints: unknown): { exact: string[]; ideal: string[] } {
  const out = { exact: [] as string[], ideal: [] as string[] };
  if (!isRecord(constraints)) return out;
  const c = normalizeLegacy(constraints);
  const add = (v: unknown, into: string[]): void => {
    if (typeof v === 'string') into.push(v);
    else if (Array.isArray(v)) for (const x of v.slice(0, 64)) if (typeof x === 'string') into.push(x);
  };
  const d = c.deviceId;
  if (typeof d === 'string' || Array.isArray(d)) add(d, out.ideal);
  else if (isRecord(d)) {
    add(d.exact, out.exact);
    add(d.ideal, out.ideal);
  }
  if (Array.isArray(c.advanced)) {
    for (const adv of c.advanced.slice(0, 64)) {
      if (!isRecord(adv)) continue;
      const ad = adv.deviceId;
      if (typeof ad === 'string' || Array.isArray(ad)) add(ad, out.ideal);
      else if (isRecord(ad)) add(ad.exact ?? ad.ideal, out.ideal);
    }
  }
  return out;
}

/** Checks the non-numeric constraints a camera also answers: facingMode and resizeMode. */
export function checkEnumConstraints(constraints: unknown): string | null {
  if (!isRecord(constraints)) return null;
  const exactValues = (v: unknown): string[] | null => {
    if (!isRecord(v) || v.exact === undefined) return null;
    return Array.isArray(v.exact) ? v.exact.filter((x): x is string => typeof x === 'string') : typeof v.exact === 'string' ? [v.exact] : [];
  };
  const facing = exactValues(constraints.facingMode);
  if (facing && !facing.includes('user')) return 'facingMode';
  const resize = exactValues(constraints.resizeMode);
  if (resize && !resize.some((m) => m === 'none' || m === 'crop-and-scale')) return 'resizeMode';
  return null;
}

/** True for Chrome's legacy desktop/tab capture requests, which must pass through untouched. */
export function isDesktopCapture(constraints: unknown): boolean {
  if (!isRecord(constraints)) return false;
  const m = constraints.mandatory;
  return isRecord(m) && (typeof m.chromeMediaSource === 'string' || typeof m.chromeMediaSourceId === 'string');
}
