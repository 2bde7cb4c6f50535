/**
 * Backward passes of the bias-free layers the R2-Talker networks are built from
 * (worker/model/mlp.ts): linear (weights [out, in] row-major), ReLU and FiLM.
 *
 * Activations may be float32 or float64: the trainer keeps its per-sample caches in float64
 * so the gradient checks against central finite differences can use tight tolerances, and the
 * parameters (what the avatar stores) stay float32.
 */
export type Vec = Float32Array | Float64Array;

/** y[yOff + o] = sum_i W[o*inDim + i] * x[xOff + i], the forward of worker/model/mlp.ts linear for any float array. */
export function linearForward(W: Float32Array, outDim: number, inDim: number, x: Vec, xOff: number, y: Vec, yOff: number): void {
  for (let o = 0; o < outDim; o++) {
    const row = o * inDim;
    let acc = 0;
    for (let i = 0; i < inDim; i++) acc += W[row + i] * x[xOff + i];
    y[yOff + o] = acc;
  }
}

/**
 * For y = W x: dW[o, i] += dy[o] * x[i] (when dW is given) and dx[i] += sum_o W[o, i] * dy[o]
 * (when dx is given). Both accumulate, so one weight matrix can gather the gradient of a whole
 * batch of samples.
 */
export function linearBackward(
  W: Float32Array,
  outDim: number,
  inDim: number,
  x: Vec,
  xOff: number,
  dy: Vec,
  dyOff: number,
  dW: Vec | null,
  dx: Vec | null,
  dxOff: number,
): void {
  for (let o = 0; o < outDim; o++) {
    const g = dy[dyOff + o];
    if (g === 0) continue;
    const row = o * inDim;
    if (dW) for (let i = 0; i < inDim; i++) dW[row + i] += g * x[xOff + i];
    if (dx) for (let i = 0; i < inDim; i++) dx[dxOff + i] += g * W[row + i];
  }
}

/** ReLU backward in place: dy[i] = 0 where the ReLU output y[i] was not positive. */
export function reluBackward(y: Vec, yOff: number, dy: Vec, dyOff: number, n: number): void {
  for (let i = 0; i < n; i++) if (!(y[yOff + i] > 0)) dy[dyOff + i] = 0;
}

/**
 * FiLM h' = h * (1 + b) + a with g = [a (H values), b (H values)] (model-spec §5).
 * Given dh' (in place at dh), accumulates dg (da = dh', db = dh' * h) and turns dh into
 * dL/dh = dh' * (1 + b). h is the pre-FiLM value.
 */
export function filmBackward(h: Vec, hOff: number, H: number, g: Vec, dh: Vec, dhOff: number, dg: Vec): void {
  for (let i = 0; i < H; i++) {
    const d = dh[dhOff + i];
    dg[i] += d;
    dg[H + i] += d * h[hOff + i];
    dh[dhOff + i] = d * (1 + g[H + i]);
  }
}
