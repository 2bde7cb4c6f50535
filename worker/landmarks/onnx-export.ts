/**
 * The generator as an ONNX model (opset 17, IR 8), and back.
 *
 * Graph: mel [1, N, 80] -> Sub(featMean) -> Mul(featScale) -> Transpose to [1, 80, N]
 * -> (Conv [+ Relu]) x 5 -> Transpose to [1, T, 204] -> Mul(outScale) -> Add(outMean)
 * -> Reshape -> landmarks [1, T, 68, 3], T = (N - receptiveField) / 4 + 1.
 * Conv weights are stored as ONNX wants them, [cout, cin, kernel].
 * Everything else a player needs to place the window (look-ahead, first mel frame,
 * landmark space) is in the model's metadata_props under `r2talker.*`.
 * A model that reads online-normalised features (online-norm.ts) carries its spec as JSON in
 * `r2talker.featureNorm` and is version 2, so that a player too old to compute those features
 * refuses it instead of feeding it raw log-mel; version 1 models read raw log-mel, unchanged.
 * A normalisation with a quiet floor (`quietFloor`, online-norm.ts) makes it version 3, so a
 * version-2 player, which would ignore the floor and feed other features, refuses it too.
 */
import { ConfigError, FormatError } from '../errors.ts';
import { MEL } from '../audio/mel.ts';
import {
  ATTR_INTS,
  decodeOnnx,
  encodeOnnx,
  floatTensor,
  floatValueInfo,
  int64Tensor,
  tensorFloats,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
} from '../io/onnx-proto.ts';
import type { ConvLayer } from './conv.ts';
import { LANDMARK_DIM, LANDMARK_FPS, NUM_LANDMARKS, layerShapes, melStart, receptiveField, validateGenerator, type LandmarkGenerator, type LandmarkSpace } from './model.ts';

export const GENERATOR_KIND = 'r2talker-landmark-generator';
export const GENERATOR_VERSION = '1';
/** version of a model whose features are normalised online before the graph */
export const GENERATOR_VERSION_NORMALISED = '2';
/** version of a normalised model whose normaliser bounds quiet frames (`quietFloor`) */
export const GENERATOR_VERSION_QUIET_FLOOR = '3';

function versionOf(g: LandmarkGenerator): string {
  if (g.featureNorm === undefined || g.featureNorm.kind === 'none') return GENERATOR_VERSION;
  return g.featureNorm.quietFloor === undefined ? GENERATOR_VERSION_NORMALISED : GENERATOR_VERSION_QUIET_FLOOR;
}
export const ONNX_INPUT = 'mel';
export const ONNX_OUTPUT = 'landmarks';

const ints = (name: string, v: number[]): OnnxAttribute => ({ name, type: ATTR_INTS, ints: v });

/** [cout][kernel][cin] <-> [cout][cin][kernel] */
function transposeWeight(l: Pick<ConvLayer, 'cin' | 'cout' | 'kernel'>, w: Float32Array, toOnnx: boolean): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < l.cout; o++) {
    for (let k = 0; k < l.kernel; k++) {
      for (let c = 0; c < l.cin; c++) {
        const ours = (o * l.kernel + k) * l.cin + c;
        const theirs = (o * l.cin + c) * l.kernel + k;
        if (toOnnx) out[theirs] = w[ours];
        else out[ours] = w[theirs];
      }
    }
  }
  return out;
}

function expectedOps(layers: Pick<ConvLayer, 'relu'>[]): string[] {
  const ops = ['Sub', 'Mul', 'Transpose'];
  for (const l of layers) ops.push(...(l.relu ? ['Conv', 'Relu'] : ['Conv']));
  return ops.concat(['Transpose', 'Mul', 'Add', 'Reshape']);
}

export function generatorToOnnx(g: LandmarkGenerator, provenance: Record<string, string> = {}): Uint8Array {
  validateGenerator(g);
  const normalised = g.featureNorm !== undefined && g.featureNorm.kind !== 'none';
  const version = versionOf(g);
  const init: OnnxTensor[] = [floatTensor('feat_mean', [MEL.bins], g.featMean), floatTensor('feat_scale', [MEL.bins], g.featScale)];
  const nodes: OnnxNode[] = [
    { opType: 'Sub', input: [ONNX_INPUT, 'feat_mean'], output: ['mel_centred'], name: 'normalise_sub' },
    { opType: 'Mul', input: ['mel_centred', 'feat_scale'], output: ['mel_norm'], name: 'normalise_mul' },
    { opType: 'Transpose', input: ['mel_norm'], output: ['x0'], name: 'to_channels', attribute: [ints('perm', [0, 2, 1])] },
  ];
  let prev = 'x0';
  for (const l of g.layers) {
    init.push(floatTensor(`${l.name}.weight`, [l.cout, l.cin, l.kernel], transposeWeight(l, l.weight, true)));
    init.push(floatTensor(`${l.name}.bias`, [l.cout], l.bias));
    const attrs = [ints('kernel_shape', [l.kernel]), ints('strides', [l.stride]), ints('dilations', [l.dilation]), ints('pads', [0, 0])];
    nodes.push({ opType: 'Conv', input: [prev, `${l.name}.weight`, `${l.name}.bias`], output: [`${l.name}.out`], name: l.name, attribute: attrs });
    prev = `${l.name}.out`;
    if (l.relu) {
      nodes.push({ opType: 'Relu', input: [prev], output: [`${l.name}.relu`], name: `${l.name}.relu` });
      prev = `${l.name}.relu`;
    }
  }
  init.push(floatTensor('out_scale', [LANDMARK_DIM], g.outScale), floatTensor('out_mean', [LANDMARK_DIM], g.outMean));
  init.push(int64Tensor('out_shape', [4], [1, -1, NUM_LANDMARKS, 3]));
  nodes.push(
    { opType: 'Transpose', input: [prev], output: ['z'], name: 'to_time', attribute: [ints('perm', [0, 2, 1])] },
    { opType: 'Mul', input: ['z', 'out_scale'], output: ['y_scaled'], name: 'denormalise_mul' },
    { opType: 'Add', input: ['y_scaled', 'out_mean'], output: ['y'], name: 'denormalise_add' },
    { opType: 'Reshape', input: ['y', 'out_shape'], output: [ONNX_OUTPUT], name: 'to_landmarks' },
  );
  const meta: Record<string, string> = {
    'r2talker.kind': GENERATOR_KIND,
    'r2talker.version': version,
    'r2talker.space': g.space,
    'r2talker.lookAhead': String(g.lookAhead),
    'r2talker.melStart': String(melStart(g)),
    'r2talker.receptiveField': String(receptiveField(g)),
    'r2talker.fps': String(LANDMARK_FPS),
    ...(normalised ? { 'r2talker.featureNorm': JSON.stringify(g.featureNorm) } : {}),
    'r2talker.features': `log-mel ${MEL.bins} bins, ${MEL.sampleRate} Hz, window ${MEL.window}, hop ${MEL.hop}, fft ${MEL.fftSize}, ${MEL.fmin}-${MEL.fmax} Hz, ln(x+${MEL.floor})`,
    ...Object.fromEntries(Object.entries(provenance).map(([k, v]) => [`r2talker.provenance.${k}`, v])),
  };
  return encodeOnnx({
    irVersion: 8,
    producerName: 'r2talker',
    producerVersion: version,
    opsetImport: [{ domain: '', version: 17 }],
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'landmark_generator',
      node: nodes,
      initializer: init,
      input: [floatValueInfo(ONNX_INPUT, [1, 'mel_frames', MEL.bins])],
      output: [floatValueInfo(ONNX_OUTPUT, [1, 'frames', NUM_LANDMARKS, 3])],
    },
  });
}

/** Reads a generator written by `generatorToOnnx`; FormatError (INPUT_FORMAT) naming the field otherwise. */
export function generatorFromOnnx(bytes: Uint8Array, field = 'generator'): LandmarkGenerator {
  const model = decodeOnnx(bytes, field);
  const meta = new Map((model.metadataProps ?? []).map((e) => [e.key, e.value]));
  if (meta.get('r2talker.kind') !== GENERATOR_KIND) {
    throw FormatError.expected('INPUT_FORMAT', `${field}.metadata.kind`, JSON.stringify(GENERATOR_KIND), JSON.stringify(meta.get('r2talker.kind') ?? null));
  }
  const version = meta.get('r2talker.version');
  if (version !== GENERATOR_VERSION && version !== GENERATOR_VERSION_NORMALISED && version !== GENERATOR_VERSION_QUIET_FLOOR) {
    throw FormatError.expected(
      'INPUT_FORMAT',
      `${field}.metadata.version`,
      `${GENERATOR_VERSION}, ${GENERATOR_VERSION_NORMALISED} or ${GENERATOR_VERSION_QUIET_FLOOR}`,
      JSON.stringify(version ?? null),
    );
  }
  if ((version !== GENERATOR_VERSION) !== meta.has('r2talker.featureNorm')) {
    throw FormatError.input(`${field}.metadata.featureNorm`, `version ${version} ${version === GENERATOR_VERSION ? 'must not carry' : 'needs'} a feature normalisation`);
  }
  const tensors = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const get = (name: string, dims: number[]): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw FormatError.input(`${field}.${name}`, 'missing initializer');
    const got = (t.dims ?? []).map(Number);
    if (got.length !== dims.length || got.some((d, i) => d !== dims[i])) {
      throw FormatError.expected('INPUT_FORMAT', `${field}.${name}.dims`, JSON.stringify(dims), JSON.stringify(got));
    }
    const data = tensorFloats(t, `${field}.${name}`);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw FormatError.expected('INPUT_FORMAT', `${field}.${name}[${i}]`, 'a finite value', String(data[i]));
    }
    return data;
  };
  const w0 = tensors.get('conv0.weight');
  const channels = Number(w0?.dims?.[0] ?? 0);
  if (!Number.isInteger(channels) || channels < 1 || channels > 512) {
    throw FormatError.expected('INPUT_FORMAT', `${field}.conv0.weight.dims[0]`, 'a channel count in 1..512', String(channels));
  }
  const layers = layerShapes(channels).map((s): ConvLayer => {
    const w = get(`${s.name}.weight`, [s.cout, s.cin, s.kernel]);
    return { ...s, weight: transposeWeight(s, w, false), bias: get(`${s.name}.bias`, [s.cout]) };
  });
  const ops = model.graph.node.map((n) => n.opType);
  const want = expectedOps(layers);
  if (ops.join(',') !== want.join(',')) throw FormatError.expected('INPUT_FORMAT', `${field}.graph.node`, want.join(','), ops.join(','));
  const g: LandmarkGenerator = {
    featMean: get('feat_mean', [MEL.bins]),
    featScale: get('feat_scale', [MEL.bins]),
    layers,
    outMean: get('out_mean', [LANDMARK_DIM]),
    outScale: get('out_scale', [LANDMARK_DIM]),
    lookAhead: Number(meta.get('r2talker.lookAhead')),
    space: meta.get('r2talker.space') as LandmarkSpace,
  };
  const norm = meta.get('r2talker.featureNorm');
  if (norm !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(norm);
    } catch (e) {
      throw FormatError.input(`${field}.metadata.featureNorm`, 'expected JSON', e);
    }
    g.featureNorm = parsed as LandmarkGenerator['featureNorm'];
  }
  try {
    validateGenerator(g);
  } catch (e) {
    if (e instanceof ConfigError) throw FormatError.input(field, e.message, e);
    throw e;
  }
  const floor = g.featureNorm?.kind === 'online-mvn' && g.featureNorm.quietFloor !== undefined;
  if ((version === GENERATOR_VERSION_QUIET_FLOOR) !== floor) {
    throw FormatError.input(`${field}.metadata.featureNorm.quietFloor`, `version ${version} ${floor ? 'must not carry' : 'needs'} a quiet floor`);
  }
  return g;
}
