/**
 * The canonical face as the extension ships it (decoded at build time because extension pages
 * forbid protobufjs' generated code): the packed form reads back to exactly the face decoded
 * from MediaPipe's protobuf, and damaged files are refused naming what is wrong.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCanonicalFace, type CanonicalFace } from '../../worker/face/canonical.ts';
import { packCanonicalFace, unpackCanonicalFace } from '../../worker/face/canonical-pack.ts';
import { nodeFaceModelSource } from '../../worker/face/model-source.node.ts';

describe('packed canonical face', () => {
  let face: CanonicalFace;
  let packed: Uint8Array;
  beforeAll(async () => {
    face = await loadCanonicalFace(nodeFaceModelSource);
    packed = packCanonicalFace(face);
  });

  it('round-trips exactly', () => {
    const back = unpackCanonicalFace(packed, 'canonical-face.bin');
    expect(back.vertices).toEqual(face.vertices);
    expect(back.triangles).toEqual(face.triangles);
    expect(back.weights).toEqual(face.weights);
    expect(back.triangles.length / 3).toBe(898);
  });

  it('refuses truncated, foreign and corrupted files', () => {
    expect(() => unpackCanonicalFace(packed.subarray(0, 10), 'f.bin')).toThrow(/f\.bin: truncated canonical face \(10 bytes\)/);
    expect(() => unpackCanonicalFace(packed.subarray(0, packed.length - 4), 'f.bin')).toThrow(/f\.bin.*bytes/);
    const foreign = packed.slice();
    foreign[0] = 0x50;
    expect(() => unpackCanonicalFace(foreign, 'f.bin')).toThrow(/not a packed canonical face/);
    const badIndex = packed.slice();
    new DataView(badIndex.buffer).setUint32(16 + 468 * 12, 5000, true);
    expect(() => unpackCanonicalFace(badIndex, 'f.bin')).toThrow(/f\.bin\.triangles: index 5000 out of range/);
    const nan = packed.slice();
    new DataView(nan.buffer).setFloat32(16, Number.NaN, true);
    expect(() => unpackCanonicalFace(nan, 'f.bin')).toThrow(/non-finite/);
  });
});
