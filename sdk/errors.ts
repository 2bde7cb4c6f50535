/**
 * Errors the SDK throws. Each has a stable `code` an app can switch on (show "allow the
 * microphone", offer the canvas fallback, report a broken avatar file) without parsing text.
 */

export type TalkingHeadErrorCode =
  /** A browser feature the engine needs is missing (named in `feature`); see `supportReport()`. */
  | 'UNSUPPORTED_BROWSER'
  /** An option is missing, of the wrong type or out of range (named in `field`). */
  | 'INVALID_OPTION'
  /** The user or a permissions policy refused the microphone. */
  | 'MICROPHONE_DENIED'
  /** No microphone, or it could not be started (in use, unplugged). */
  | 'MICROPHONE_UNAVAILABLE'
  /** The avatar could not be fetched or is not a valid .r2t file. */
  | 'AVATAR_INVALID'
  /** The engine worker could not start or stopped answering. */
  | 'ENGINE_FAILED'
  /** The head was stopped; nothing more can be done with it. */
  | 'STOPPED'
  /** Publishing to LiveKit or producing to mediasoup failed. */
  | 'PUBLISH_FAILED';

export class TalkingHeadError extends Error {
  override readonly name = 'TalkingHeadError';

  constructor(
    readonly code: TalkingHeadErrorCode,
    message: string,
    /** For INVALID_OPTION: the option path; for UNSUPPORTED_BROWSER: the missing feature. */
    readonly field: string | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function invalidOption(field: string, expected: string, got: unknown): TalkingHeadError {
  return new TalkingHeadError('INVALID_OPTION', `${field}: expected ${expected}, got ${describe(got)}`, field);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
