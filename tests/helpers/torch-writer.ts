/**
 * Test-only writer of torch.save-shaped archives, for hostile and edge-case checkpoints that
 * real PyTorch would never write. Emits the same opcodes torch.save uses (protocol 2).
 */
import { zipSync } from 'fflate';

const enc = new TextEncoder();

export class Pickler {
  readonly bytes: number[] = [0x80, 2];

  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }

  u32(n: number): this {
    return this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  str(s: string): this {
    const b = enc.encode(s);
    return this.op(0x58).u32(b.length).op(...b);
  }

  int(n: number): this {
    return this.op(0x4a).u32(n | 0);
  }

  global(module: string, name: string): this {
    return this.op(0x63, ...enc.encode(`${module}\n${name}\n`));
  }

  mark(): this {
    return this.op(0x28);
  }

  tuple(): this {
    return this.op(0x74);
  }

  ints(values: number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  finish(): Uint8Array {
    return new Uint8Array([...this.bytes, 0x2e]);
  }
}

export interface FakeTensor {
  key: string;
  storage: string;
  storageType?: string;
  numel: number;
  offset?: number;
  shape: number[];
  stride?: number[];
}

function contiguousStride(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** `{'epoch': 1, 'model': OrderedDict(key -> _rebuild_tensor_v2(...))}` */
export function stateDictPickle(tensors: FakeTensor[]): Uint8Array {
  const p = new Pickler();
  p.op(0x7d).mark().str('epoch').int(1).str('model');
  p.global('collections', 'OrderedDict').op(0x29, 0x52).mark();
  for (const t of tensors) {
    p.str(t.key).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', t.storageType ?? 'FloatStorage').str(t.storage).str('cpu').int(t.numel).tuple().op(0x51);
    p.int(t.offset ?? 0).ints(t.shape).ints(t.stride ?? contiguousStride(t.shape));
    p.op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).tuple().op(0x52);
  }
  p.op(0x75).op(0x75);
  return p.finish();
}

/** A stored (uncompressed) zip with `root/` prefixed to every name, as torch.save writes. */
export function torchArchive(root: string, entries: Record<string, Uint8Array>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [name, data] of Object.entries(entries)) files[`${root}/${name}`] = [data, { level: 0 }];
  return zipSync(files);
}

export function floatBytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
