/** Uploads a frame's conditioning input (FiLM vectors, a landmark code or window points) for the ConditionPass. */
import { ConfigError } from '../errors.ts';
import type { ConditionMode, ConditionPass } from './condition-pass.ts';
import type { FrameBuffers } from './frame-buffers.ts';
import { writeData } from './gpu-util.ts';

export interface FrameConditioning {
  film1?: Float32Array;
  film2?: Float32Array;
  code?: Float32Array;
  windowPoints?: Float32Array;
  smoothing?: number;
}

/** Writes whichever input the frame carries (checked against the avatar's sizes) and says which. */
export function writeConditioning(queue: GPUQueue, fb: FrameBuffers, condition: ConditionPass, frame: FrameConditioning): ConditionMode {
  const cfg = fb.avatar.config;
  if (frame.film1 && frame.film2) {
    const n = 2 * cfg.head.hiddenDim;
    if (frame.film1.length !== n || frame.film2.length !== n) throw new ConfigError(`frame.film1/film2: expected ${n} values each, got ${frame.film1.length}/${frame.film2.length}`);
    const film = new Float32Array(2 * n);
    film.set(frame.film1);
    film.set(frame.film2, n);
    writeData(queue, fb.film, film);
    return 'film';
  }
  if (frame.code) {
    const n = fb.consts.COND_IN as number;
    if (frame.code.length !== n) throw new ConfigError(`frame.code: expected ${n} values, got ${frame.code.length}`);
    writeData(queue, fb.code, frame.code);
    return 'code';
  }
  if (frame.windowPoints) {
    const n = cfg.condition.numLandmarks * cfg.condition.window * 3;
    if (frame.windowPoints.length !== n) throw new ConfigError(`frame.windowPoints: expected ${n} values, got ${frame.windowPoints.length}`);
    writeData(queue, fb.points, frame.windowPoints);
    condition.setParams(frame.smoothing ?? 0);
    return 'points';
  }
  throw new ConfigError('frame: expected film1+film2, code or windowPoints');
}
