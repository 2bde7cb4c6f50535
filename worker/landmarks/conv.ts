/**
 * The one layer kind of the generator: a 1-D convolution without padding ("valid"),
 * optionally followed by ReLU. Activations are time-major [T][C]; weights are
 * [cout][kernel][cin] so the inner loop runs over contiguous memory (the ONNX exporter
 * transposes to ONNX's [cout][cin][kernel]).
 *
 * Every output element is bias + sum over (tap, input channel) in a fixed order, so the
 * value of an output frame does not depend on how long the sequence around it is: a
 * windowed live computation equals the offline one bit for bit.
 */
export interface ConvLayer {
  name: string;
  cin: number;
  cout: number;
  kernel: number;
  dilation: number;
  stride: number;
  relu: boolean;
  /** [cout][kernel][cin] */
  weight: Float32Array;
  /** [cout] */
  bias: Float32Array;
}

/** Output length of a valid convolution over `tin` frames (0 when the input is too short). */
export function convOutLength(layer: Pick<ConvLayer, 'kernel' | 'dilation' | 'stride'>, tin: number): number {
  const span = layer.dilation * (layer.kernel - 1) + 1;
  return tin < span ? 0 : Math.floor((tin - span) / layer.stride) + 1;
}

/** y[t][co] = act(b[co] + sum_k sum_ci W[co][k][ci] x[t*stride + k*dilation][ci]). */
export function convForward(layer: ConvLayer, x: Float32Array, tin: number, out?: Float32Array): Float32Array {
  const { cin, cout, kernel, dilation, stride, relu, weight, bias } = layer;
  const tout = convOutLength(layer, tin);
  const y = out ?? new Float32Array(tout * cout);
  for (let t = 0; t < tout; t++) {
    const base = t * stride;
    for (let co = 0; co < cout; co++) {
      let acc = bias[co];
      for (let k = 0; k < kernel; k++) {
        const xo = (base + k * dilation) * cin;
        const wo = (co * kernel + k) * cin;
        for (let ci = 0; ci < cin; ci++) acc += weight[wo + ci] * x[xo + ci];
      }
      y[t * cout + co] = relu && acc < 0 ? 0 : acc;
    }
  }
  return y;
}
