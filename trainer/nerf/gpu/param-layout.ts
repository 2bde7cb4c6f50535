/**
 * Where each parameter group lives in the WebGPU backend's flat float32 buffers (parameters,
 * gradients, Adam moments share this layout). Every group starts on a 256-byte boundary, the
 * WebGPU minimum storage-buffer offset alignment, so a kernel can bind one group on its own.
 */
import { ConfigError } from '../../../worker/errors.ts';

export interface ParamSlot {
  name: string;
  /** first float of the group */
  offset: number;
  length: number;
}

/** 64 floats = 256 bytes. */
const ALIGN = 64;
/** Bounds the per-step segment table; R2-Talker has about 25 groups. */
export const MAX_PARAM_GROUPS = 256;

export class ParamLayout {
  readonly slots: ParamSlot[];
  /** floats in each flat buffer, padding included */
  readonly total: number;
  private readonly byName = new Map<string, ParamSlot>();

  constructor(groups: readonly { name: string; length: number }[]) {
    if (groups.length === 0 || groups.length > MAX_PARAM_GROUPS) throw new ConfigError(`ParamLayout: expected 1..${MAX_PARAM_GROUPS} groups, got ${groups.length}`);
    let offset = 0;
    this.slots = groups.map((g) => {
      if (this.byName.has(g.name)) throw new ConfigError(`ParamLayout: group ${g.name} appears twice`);
      // Length 0 is legal: a config without individual codes still names the group.
      if (!Number.isInteger(g.length) || g.length < 0 || g.length > 2 ** 28) throw new ConfigError(`ParamLayout: group ${g.name} length ${g.length} is not an integer in [0, 2^28]`);
      const slot = { name: g.name, offset, length: g.length };
      this.byName.set(g.name, slot);
      offset += Math.ceil(g.length / ALIGN) * ALIGN;
      return slot;
    });
    this.total = offset;
  }

  get(name: string): ParamSlot {
    const s = this.byName.get(name);
    if (!s) throw new ConfigError(`ParamLayout: unknown group ${name}`);
    return s;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The groups of `values` packed into one flat array (groups not named stay zero). */
  pack(values: ReadonlyMap<string, Float32Array>): Float32Array {
    const flat = new Float32Array(this.total);
    for (const [name, v] of values) {
      const s = this.get(name);
      if (v.length !== s.length) throw new ConfigError(`ParamLayout: group ${name} has ${v.length} values, expected ${s.length}`);
      flat.set(v, s.offset);
    }
    return flat;
  }

  /** Copies of every group out of a flat array. */
  unpack(flat: Float32Array): Map<string, Float32Array> {
    if (flat.length < this.total) throw new ConfigError(`ParamLayout: flat array of ${flat.length} floats, expected ${this.total}`);
    return new Map(this.slots.map((s) => [s.name, flat.slice(s.offset, s.offset + s.length)]));
  }
}
