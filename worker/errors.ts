/**
 * One error hierarchy for the whole engine. Every error carries a stable `code` so it can be
 * rebuilt on the other side of a worker boundary (see `errorFromJSON`), and an optional cause.
 */

export type ErrorCode =
  | 'AVATAR_FORMAT' // an .r2t file is malformed, truncated or hostile
  | 'CHECKPOINT_FORMAT' // a PyTorch checkpoint cannot be parsed or has wrong keys/shapes
  | 'INPUT_FORMAT' // another input file (npy, json, image, wav) is malformed
  | 'CONFIG' // a model configuration is out of the supported bounds
  | 'GPU_UNAVAILABLE' // no WebGPU adapter or device
  | 'GPU_DEVICE_LOST'
  | 'GPU_OUT_OF_MEMORY'
  | 'ABORTED'
  | 'INTERNAL';

export class R2TalkerError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  toJSON(): { name: string; code: ErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** A file (avatar, checkpoint, npy, ...) failed validation. `field` names what was wrong. */
export class FormatError extends R2TalkerError {
  readonly field: string;

  constructor(code: 'AVATAR_FORMAT' | 'CHECKPOINT_FORMAT' | 'INPUT_FORMAT', field: string, message: string, options?: { cause?: unknown }) {
    super(code, `${field}: ${message}`, options);
    this.field = field;
  }

  static avatar(field: string, message: string, cause?: unknown): FormatError {
    return new FormatError('AVATAR_FORMAT', field, message, { cause });
  }

  static checkpoint(field: string, message: string, cause?: unknown): FormatError {
    return new FormatError('CHECKPOINT_FORMAT', field, message, { cause });
  }

  static input(field: string, message: string, cause?: unknown): FormatError {
    return new FormatError('INPUT_FORMAT', field, message, { cause });
  }

  /** "expected X, got Y" in one consistent wording. */
  static expected(code: 'AVATAR_FORMAT' | 'CHECKPOINT_FORMAT' | 'INPUT_FORMAT', field: string, expected: string, actual: string): FormatError {
    return new FormatError(code, field, `expected ${expected}, got ${actual}`);
  }
}

export class ConfigError extends R2TalkerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

export class GpuError extends R2TalkerError {
  static unavailable(message: string, cause?: unknown): GpuError {
    return new GpuError('GPU_UNAVAILABLE', message, { cause });
  }

  static deviceLost(message: string, cause?: unknown): GpuError {
    return new GpuError('GPU_DEVICE_LOST', message, { cause });
  }

  static outOfMemory(message: string, cause?: unknown): GpuError {
    return new GpuError('GPU_OUT_OF_MEMORY', message, { cause });
  }
}

/** Rebuilds the right class from a plain object posted across a worker/port boundary. */
export function errorFromJSON(data: { name?: string; code?: string; message?: string }): R2TalkerError {
  const code = (data.code ?? 'INTERNAL') as ErrorCode;
  const message = data.message ?? 'unknown error';
  switch (code) {
    case 'AVATAR_FORMAT':
    case 'CHECKPOINT_FORMAT':
    case 'INPUT_FORMAT': {
      const colon = message.indexOf(': ');
      const field = colon > 0 ? message.slice(0, colon) : '';
      const e = new FormatError(code, field, colon > 0 ? message.slice(colon + 2) : message);
      return e;
    }
    case 'CONFIG':
      return new ConfigError(message);
    case 'GPU_UNAVAILABLE':
    case 'GPU_DEVICE_LOST':
    case 'GPU_OUT_OF_MEMORY':
      return new GpuError(code, message);
    default:
      return new R2TalkerError(code, message);
  }
}
