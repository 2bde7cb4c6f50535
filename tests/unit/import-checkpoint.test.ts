/**
 * The importer against checkpoints written by real torch.save (scripts/make_checkpoint.py).
 * Skipped, with the reason printed, only where python3-torch is not importable.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../worker/errors.ts';
import { defaultOffsets, expectedTensors } from '../../worker/avatar/config.ts';
import type { Avatar } from '../../worker/avatar/types.ts';
import { readTorchCheckpoint, type RawTensor, type TorchCheckpoint } from '../../worker/import/checkpoint.ts';
import { importCheckpoint, importParsedCheckpoint, type ImportInputs } from '../../worker/import/importer.ts';
import { decodeImage } from '../../worker/io/image.node.ts';
import { readNpy } from '../../worker/io/npy.ts';
import { fixtureSubject, generatedFixtures, readBytes, torchUnavailable } from '../helpers/import-fixtures.ts';

const skip = torchUnavailable();
if (skip) console.warn(`import-checkpoint tests skipped: ${skip}`);

let dir = '';
let subject: Omit<ImportInputs, 'checkpoint'>;
const avatars = new Map<string, Avatar>();

function load(variant: string): Avatar {
  let a = avatars.get(variant);
  if (!a) {
    a = importCheckpoint({ ...subject, checkpoint: readBytes(join(dir, `${variant}.pth`)) });
    avatars.set(variant, a);
  }
  return a;
}

function ref(variant: string): Record<string, { dtype: string; shape: number[]; sha256: string }> {
  return JSON.parse(readFileSync(join(dir, `${variant}.ref.json`), 'utf8'));
}

function sha(data: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}

function rejects(fn: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  expect((caught as FormatError).code).toBe('CHECKPOINT_FORMAT');
  if (typeof message === 'string') expect((caught as FormatError).message).toBe(message);
  else expect((caught as FormatError).message).toMatch(message);
}

describe.skipIf(skip !== null)('importCheckpoint with real PyTorch checkpoints', () => {
  beforeAll(() => {
    dir = generatedFixtures();
    subject = fixtureSubject(dir);
  }, 300_000);

  it.each(['best', 'full', 'noeye', 'notorso', 'smalltable', 'mixed'])('imports every tensor of the "%s" checkpoint bit for bit', (variant) => {
    const a = load(variant);
    const want = ref(variant);
    const specs = expectedTensors(a.config);
    for (const spec of specs) {
      const t = a.tensors.get(spec.name);
      expect(t, spec.name).toBeDefined();
      expect(t!.shape, spec.name).toEqual(spec.shape);
      const key = { individual_code: 'individual_codes[0]', individual_code_torso: 'individual_codes_torso[0]' }[spec.name] ?? spec.name;
      expect(sha(t!.data), spec.name).toBe(want[key].sha256);
    }
  });

  it('infers eye input, torso, table sizes and aabb from each checkpoint', () => {
    const official3 = defaultOffsets(3, 16, 32, 2048, 16);
    const best = load('best').config;
    expect(best.head.eyeInput).toBe(true);
    expect(best.torso?.grid.offsets).toEqual(defaultOffsets(2, 16, 16, 2048, 16));
    expect(best.head.grid.offsets).toEqual(official3);
    expect(best.head.grid.offsets[16]).toBe(1018984);
    expect(best.aabb).toEqual([-1, -0.5, -1, 1, 0.5, 1]);
    expect(load('noeye').config.head.eyeInput).toBe(false);
    expect(load('noeye').tensors.get('sigma_net.net.0.weight')!.shape).toEqual([64, 64]);
    const notorso = load('notorso');
    expect(notorso.config.torso).toBeNull();
    expect([...notorso.tensors.keys()].some((k) => k.includes('torso'))).toBe(false);
    const small = load('smalltable').config;
    expect(small.head.grid.offsets).toEqual(defaultOffsets(3, 16, 32, 2048, 14));
    expect(small.head.grid.offsets).not.toEqual(official3);
    expect(small.condition.grid.offsets[16]).toBe(262144);
    expect(small.torso?.grid.offsets).toEqual(defaultOffsets(2, 16, 16, 2048, 14));
  });

  it('skips optimizer, scheduler, scaler and EMA entries of a full save and records provenance', () => {
    const full = load('full');
    expect(full.provenance).toMatchObject({ source: 'import', checkpoint: 'full', epoch: 10, global_step: 200000, full_save: true });
    expect(load('best').provenance.full_save).toBe(false);
    expect(full.tensors.has('density_grid')).toBe(false);
  });

  it('carries poses, eye values, background and landmark statistics of the subject', () => {
    const a = load('best');
    const poses = readNpy(readBytes(join(dir, 'poses_ref.npy')));
    expect(a.tensors.get('poses')!.shape).toEqual(poses.shape);
    expect(sha(a.tensors.get('poses')!.data)).toBe(sha(poses.data));
    const frames = (subject.transforms as { frames: { eye_ratio?: number }[] }).frames;
    const eye = a.tensors.get('eye')!.data as Float32Array;
    frames.forEach((f, i) => expect(eye[i]).toBe(Math.fround(f.eye_ratio ?? 0.25)));
    expect(a.camera).toEqual({ fx: 1200, fy: 1200, cx: 225, cy: 225, width: 450, height: 450 });
    expect(a.tensors.get('background')!.shape).toEqual([450, 450, 3]);
    expect(a.tensors.get('background')!.data).toEqual(subject.background.rgb);
    const mean = readNpy(readBytes(join(dir, 'landmarks_mean.npy'))).data as Float32Array;
    const std = readNpy(readBytes(join(dir, 'landmarks_std.npy'))).data as Float32Array;
    expect(a.landmarkStats?.frames).toBe(40);
    for (let i = 0; i < 204; i++) {
      expect(a.landmarkStats!.mean[i]).toBeCloseTo(mean[i], 6);
      expect(Math.abs(a.landmarkStats!.std[i] - std[i])).toBeLessThanOrEqual(1e-6 * std[i] + 1e-7);
    }
    expect(a.tensors.get('landmark_std')!.data).toBe(a.landmarkStats!.std);
  });

  it('resizes a background of another size with the INTER_AREA filter', () => {
    const big = decodeImage(readBytes(join(dir, 'bc_2x.png')));
    const area = readNpy(readBytes(join(dir, 'bc_2x_area.npy')));
    const a = importCheckpoint({ ...subject, background: big, checkpoint: readBytes(join(dir, 'notorso.pth')) });
    expect(a.tensors.get('background')!.data).toEqual(area.data);
  });

  it('reports progress for every stage', () => {
    const stages = new Set<string>();
    let last = { done: 0, total: 0 };
    importCheckpoint({ ...subject, checkpoint: readBytes(join(dir, 'notorso.pth')) }, {
      onProgress: (done, total, stage) => {
        stages.add(stage);
        if (stage === 'tensors') last = { done, total };
      },
    });
    expect([...stages]).toEqual(['transforms', 'tensors', 'config', 'validate', 'background', 'landmarks']);
    expect(last.done).toBe(last.total);
  });

  it('rejects a wrong sigma_net input width naming both accepted shapes', () => {
    rejects(() => importCheckpoint({ ...subject, checkpoint: readBytes(join(dir, 'badshape.pth')) }), 'model.sigma_net.net.0.weight: expected shape [64,65] or [64,64], got [64,66]');
  });

  it('rejects a truncated or corrupted full-size checkpoint quickly', () => {
    const bytes = readBytes(join(dir, 'best.pth'));
    const t0 = performance.now();
    rejects(() => importCheckpoint({ ...subject, checkpoint: bytes.subarray(0, bytes.length >> 1) }), 'zip: no end-of-central-directory record (truncated or not a zip file)');
    // data.pkl is the first entry and starts with PROTO 2; flip its third byte.
    const bad = bytes.slice();
    bad[bytes.indexOf(0x80) + 2] ^= 0x40;
    rejects(() => importCheckpoint({ ...subject, checkpoint: bad }), /^zip\.best\/data\.pkl: CRC-32 mismatch/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  describe('on modified parsed checkpoints', () => {
    let parsed: TorchCheckpoint;
    beforeAll(() => {
      parsed = readTorchCheckpoint(readBytes(join(dir, 'best.pth')));
    });
    const modified = (edit: (model: Map<string, RawTensor>) => void): TorchCheckpoint => {
      const model = new Map(parsed.model);
      edit(model);
      const index = new Map([...model].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }]));
      return { ...parsed, model, index };
    };
    const run = (ck: TorchCheckpoint) => () => importParsedCheckpoint(ck, subject);

    it('imports the unmodified copy', () => {
      expect(run(modified(() => {}))().tensors.size).toBe(load('best').tensors.size);
    });

    it('rejects a missing key naming it and its expected shape', () => {
      rejects(run(modified((m) => m.delete('color_net.net.1.weight'))), 'model.color_net.net.1.weight: expected a tensor of shape [3,64], got no such key');
      rejects(run(modified((m) => m.delete('encoder.offsets'))), 'model.encoder.offsets: expected a tensor of shape [17], got no such key');
    });

    it('rejects a wrong shape naming the key, the expected and the actual shape', () => {
      rejects(
        run(modified((m) => m.set('mlp_lms_style_2.net.2.weight', { dtype: 'float32', shape: [128, 127], data: new Float32Array(128 * 127) }))),
        'model.mlp_lms_style_2.net.2.weight: expected shape [128,128], got [128,127]',
      );
      rejects(run(modified((m) => m.set('individual_codes', { dtype: 'float32', shape: [10, 5], data: new Float32Array(50) }))), 'model.individual_codes: expected shape [N,4] with N >= 1, got [10,5]');
    });

    it('rejects a wrong dtype naming the key', () => {
      rejects(run(modified((m) => m.set('density_bitfield', { dtype: 'float32', shape: [262144], data: new Float32Array(262144) }))), 'model.density_bitfield: expected dtype uint8, got float32');
      rejects(run(modified((m) => m.set('color_net.net.1.weight', { dtype: 'int32', shape: [3, 64], data: new Int32Array(192) }))), 'model.color_net.net.1.weight: expected dtype float32, float16 or float64, got int32');
    });

    it('rejects non-finite weights and inconsistent table offsets', () => {
      const nan = new Float32Array(192);
      nan[7] = Number.NaN;
      rejects(run(modified((m) => m.set('color_net.net.1.weight', { dtype: 'float32', shape: [3, 64], data: nan }))), 'model.color_net.net.1.weight: element 7 is NaN (expected finite values)');
      const offsets = new Int32Array(parsed.model.get('encoder.offsets')!.data as Int32Array);
      offsets[3] = offsets[2];
      expect(run(modified((m) => m.set('encoder.offsets', { dtype: 'int32', shape: [17], data: offsets })))).toThrow(/^model\.encoder\.offsets: model\.head\.grid\.offsets\[3\]/);
    });
  });
});
