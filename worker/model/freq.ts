/**
 * Frequency (positional) encoding as the reference freqencoder lays it out (model-spec §7):
 * the raw inputs, then for each octave k: sin(2^k x_d) for every d, then cos(2^k x_d) for
 * every d, the cosine written as sin(. + pi/2) with the float32 pi of the kernel.
 */
import { ConfigError } from '../errors.ts';
import { LIMITS, freqEncodedDim } from '../avatar/config.ts';

const HALF_PI_F32 = Math.fround(Math.fround(Math.PI) / 2);

/** Writes freqEncodedDim(dims, degree) values to out[off ..] from x[0 .. dims). */
export function freqEncode(x: ArrayLike<number>, dims: number, degree: number, out: Float32Array, off: number): void {
  if (!Number.isInteger(dims) || dims < 1 || dims > 64) throw new ConfigError(`freqEncode.dims: expected an integer in [1, 64], got ${dims}`);
  if (!Number.isInteger(degree) || degree < 0 || degree > LIMITS.maxFreqDegree) {
    throw new ConfigError(`freqEncode.degree: expected an integer in [0, ${LIMITS.maxFreqDegree}], got ${degree}`);
  }
  if (out.length < off + freqEncodedDim(dims, degree)) {
    throw new ConfigError(`freqEncode.out: expected room for ${freqEncodedDim(dims, degree)} values at ${off}, got length ${out.length}`);
  }
  for (let d = 0; d < dims; d++) out[off + d] = x[d];
  let o = off + dims;
  for (let k = 0; k < degree; k++) {
    const f = 2 ** k; // scalbnf: exact
    for (let d = 0; d < dims; d++) out[o++] = Math.sin(Math.fround(Math.fround(x[d]) * f));
    for (let d = 0; d < dims; d++) out[o++] = Math.sin(Math.fround(Math.fround(x[d]) * f + HALF_PI_F32));
  }
}
