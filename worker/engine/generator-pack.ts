/**
 * The default landmark generator as the extension ships it: decoded from ONNX at build time
 * (webpack.config.ts) into a flat, eval-free format. The ONNX decoder (protobufjs
 * reflection) generates code with `Function`, which MV3 extension pages' CSP refuses.
 *
 * Layout: 4-byte little-endian header length, a JSON header { format, lookAhead, space,
 * layers: [{ name, cin, cout, kernel, stride, dilation, relu }], featureNorm? }, padding to 4
 * bytes, then float32 arrays: featMean, featScale, per layer weight then bias, outMean, outScale.
 * `featureNorm` (online-norm.ts) is there when the generator reads normalised features: without
 * it the extension would feed such a model raw log-mel.
 */
import type { FeatureNorm } from '../audio/online-norm.ts';
import { validateGenerator, type LandmarkGenerator, type LandmarkSpace } from '../landmarks/model.ts';
import { copyBytes } from '../util/bytes.ts';

const FORMAT = 'r2talker-generator-pack/1';
const MAX_HEADER = 64 * 1024;

interface Header {
  format: string;
  lookAhead: number;
  space: LandmarkSpace;
  layers: { name: string; cin: number; cout: number; kernel: number; stride: number; dilation: number; relu: boolean }[];
  featureNorm?: FeatureNorm;
}

export function packGenerator(g: LandmarkGenerator): Uint8Array {
  validateGenerator(g);
  const header: Header = {
    format: FORMAT,
    lookAhead: g.lookAhead,
    space: g.space,
    layers: g.layers.map(({ name, cin, cout, kernel, stride, dilation, relu }) => ({ name, cin, cout, kernel, stride, dilation, relu })),
    ...(g.featureNorm && g.featureNorm.kind !== 'none' ? { featureNorm: g.featureNorm } : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((4 + json.length) / 4) * 4;
  const arrays = [g.featMean, g.featScale, ...g.layers.flatMap((l) => [l.weight, l.bias]), g.outMean, g.outScale];
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(start + floats * 4);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  const f = new Float32Array(out.buffer, start, floats);
  let o = 0;
  for (const a of arrays) {
    f.set(a, o);
    o += a.length;
  }
  return out;
}

export function unpackGenerator(bytes: Uint8Array): LandmarkGenerator {
  if (bytes.length < 8) throw new RangeError(`generator pack: expected at least 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  if (len > MAX_HEADER || 4 + len > bytes.length) throw new RangeError(`generator pack: header length ${len} out of range`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len))) as Header;
  if (header.format !== FORMAT || !Array.isArray(header.layers) || header.layers.length > 64) throw new RangeError(`generator pack: expected format ${FORMAT}`);
  const start = Math.ceil((4 + len) / 4) * 4;
  const data = new Float32Array(copyBytes(bytes, start));
  let o = 0;
  const take = (n: number): Float32Array => {
    if (!Number.isInteger(n) || n < 0 || o + n > data.length) throw new RangeError(`generator pack: truncated (wanted ${n} floats at ${o} of ${data.length})`);
    const a = data.slice(o, o + n);
    o += n;
    return a;
  };
  const featMean = take(80);
  const featScale = take(80);
  const layers = header.layers.map((l) => ({ ...l, weight: take(l.cout * l.cin * l.kernel), bias: take(l.cout) }));
  const g: LandmarkGenerator = { featMean, featScale, layers, outMean: take(204), outScale: take(204), lookAhead: header.lookAhead, space: header.space };
  if (header.featureNorm !== undefined) g.featureNorm = header.featureNorm;
  if (o !== data.length) throw new RangeError(`generator pack: ${data.length - o} trailing floats`);
  validateGenerator(g);
  return g;
}
