// Grid-encoding backward on the GPU: scatters d loss / d features into d loss / d table
// (the transpose of common/grid.wgsl; CPU reference trainer/nerf/cpu/grid-backward.ts).
//
// WebGPU has atomics on i32/u32 only. Each table entry accumulates a 64-bit two's-complement
// fixed-point sum in two u32 words (lo, hi): lo takes an atomicAdd, and the carry out of it
// (old + lo wrapped below old) goes into hi with the contribution's own high word. Integer
// addition is associative, so the gradient is bit-identical whatever order the invocations
// run in (a compare-and-swap loop on bit-cast floats is not), and a 64-bit word leaves room
// for a fine quantum without any risk of overflow:
//   per table entry, |sum| <= sum over points of |dOut| <= N * max|dOut| < 2^(log2N + e),
//   with max|dOut| < 2^e, so the scale 2^S with S = 62 - ceil(log2 N) - e keeps every sum
//   (and every partial sum, in any order) below 2^62 in magnitude.
// A contribution near max|dOut| keeps about 62 - log2 N significant bits (42 for a million
// points); one a million times smaller still keeps 22, float32's own precision.
// The alternative, scatter_add_cas + scatter_resolve_cas, adds float32 values by a
// compare-and-swap loop on their bits in the lo words: kept to measure what determinism and
// the finer quantum cost (npm run bench), and as a fallback should a driver mishandle the
// 64-bit carry; its sums depend on invocation order.
// Three entry points in order: scatter_absmax (max|dOut| as bit-cast u32: positive floats
// order like their bits), scatter_add, scatter_resolve (fixed point -> f32, scaled back).
// The host clears `acc` and `stats` before scatter_absmax. A NaN or infinite dOut makes
// scatter_add skip and scatter_resolve write NaN everywhere, so the step cannot pass silently.
// Consts GRID_DIM, GRID_FEATS, GRID_LEVELS, GRID_HASH from the prelude; common/grid-index.wgsl
// and common/grid-cell.wgsl are included before this file.

override WG_SCATTER: u32 = 64u;

struct ScatterParams {
  num_points: u32,
  dout_stride: u32, // floats from one point's dOut row to the next
  dout_offset: u32, // first float of the grid features within a row
  num_entries: u32, // table rows * GRID_FEATS
  log2_points: u32, // ceil(log2(num_points))
  active_levels: u32, // levels from here on get no gradient (progressive optimisation)
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> sp: ScatterParams;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> points: array<vec4f>; // u in xyz (z unused in 2-D)
@group(0) @binding(3) var<storage, read> dout: array<f32>;
// [lo words | hi words], num_entries each.
@group(0) @binding(4) var<storage, read_write> acc: array<atomic<u32>>;
// [0]: max|dOut| bits, [1]: S as bit-cast i32 (written by scatter_resolve, for diagnostics).
@group(0) @binding(5) var<storage, read_write> stats: array<atomic<u32>, 2>;
@group(0) @binding(6) var<storage, read_write> dtable: array<f32>;

const NONFINITE_BITS: u32 = 0x7f800000u;
const TWO32: f32 = 4294967296.0;
const INV_TWO32: f32 = 2.3283064365386963e-10;

var<workgroup> wg_max: atomic<u32>;

// Point p's u, or false when any coordinate is outside [0,1] (the forward encoded zeros there).
fn point_u(p: u32, u: ptr<function, array<f32, 3>>) -> bool {
  let v = points[p];
  (*u)[0] = v.x;
  (*u)[1] = v.y;
  (*u)[2] = v.z;
  return grid_in_range(*u);
}

fn dout_at(p: u32, l: u32, ch: u32) -> f32 {
  return dout[p * sp.dout_stride + sp.dout_offset + l * GRID_FEATS + ch];
}

// The fixed-point exponent S for the current max|dOut| (see the header), clamped so that
// ldexp(x, S) and ldexp(x, -S) stay within float32's exponent range.
fn fixed_shift(max_bits: u32) -> i32 {
  let e = frexp(bitcast<f32>(max_bits)).exp;
  return clamp(62 - i32(sp.log2_points) - e, -126, 126);
}

// Points x levels invocations, grid-stride (the host bounds the dispatch).
fn work_items() -> u32 {
  return sp.num_points * GRID_LEVELS;
}

@compute @workgroup_size(WG_SCATTER)
fn scatter_absmax(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    atomicStore(&wg_max, 0u);
  }
  workgroupBarrier();
  let total = nwg.x * nwg.y * WG_SCATTER;
  var m = 0u;
  for (var i = flat_index(wg, nwg, lid, WG_SCATTER); i < work_items(); i += total) {
    let p = i / GRID_LEVELS;
    var u: array<f32, 3>;
    if (i % GRID_LEVELS < sp.active_levels && point_u(p, &u)) {
      for (var ch = 0u; ch < GRID_FEATS; ch++) {
        m = max(m, bitcast<u32>(abs(dout_at(p, i % GRID_LEVELS, ch))));
      }
    }
  }
  atomicMax(&wg_max, m);
  workgroupBarrier();
  if (lid == 0u) {
    atomicMax(&stats[0], atomicLoad(&wg_max));
  }
}

// round(y) with |round(y)| < 2^63 as 64-bit two's complement (lo, hi). Exact: y has 24
// significant bits, so both halves are integers float32 holds exactly.
fn to_fixed(y: f32) -> vec2u {
  let a = round(abs(y));
  let hi_f = floor(a * INV_TWO32);
  var lo = u32(a - hi_f * TWO32);
  var hi = u32(hi_f);
  if (y < 0.0) {
    lo = ~lo + 1u;
    hi = ~hi + select(0u, 1u, lo == 0u);
  }
  return vec2u(lo, hi);
}

fn add64(a: vec2u, b: vec2u) -> vec2u {
  let lo = a.x + b.x;
  return vec2u(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn acc_add(i: u32, v: vec2u) {
  if (v.x == 0u && v.y == 0u) {
    return;
  }
  let old = atomicAdd(&acc[i], v.x);
  let h = v.y + select(0u, 1u, old + v.x < old);
  // A small negative value has hi = ~0 and nearly always a carry: the sum is 0, skip it.
  if (h != 0u) {
    atomicAdd(&acc[sp.num_entries + i], h);
  }
}

@compute @workgroup_size(WG_SCATTER)
fn scatter_add(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let max_bits = atomicLoad(&stats[0]);
  if (max_bits == 0u || max_bits >= NONFINITE_BITS) {
    return;
  }
  let s = fixed_shift(max_bits);
  let total = nwg.x * nwg.y * WG_SCATTER;
  for (var i = flat_index(wg, nwg, lid, WG_SCATTER); i < work_items(); i += total) {
    let p = i / GRID_LEVELS;
    let l = i % GRID_LEVELS;
    var u: array<f32, 3>;
    if (l >= sp.active_levels || !point_u(p, &u)) {
      continue;
    }
    let lv = grid_levels[l];
    let cell = grid_cell(u, lv);
    var g: array<f32, GRID_FEATS>;
    for (var ch = 0u; ch < GRID_FEATS; ch++) {
      g[ch] = dout_at(p, l, ch);
    }
    for (var k = 0u; k < (1u << GRID_DIM); k++) {
      let w = grid_corner_weight(cell, k, GRID_DIM);
      if (w == 0.0) {
        continue;
      }
      let row = grid_corner_row(cell, lv, k) * GRID_FEATS;
      for (var ch = 0u; ch < GRID_FEATS; ch++) {
        // w * g exactly, as the rounded product plus its rounding error: the fixed-point quantum
        // is far below float32's ulp, so the sum keeps no per-product rounding. Needs a fused
        // fma; Vulkan lets a driver split it (SwiftShader does), and then err is just 0.
        let prod = w * g[ch];
        let err = fma(w, g[ch], -prod);
        acc_add(row + ch, add64(to_fixed(ldexp(prod, s)), to_fixed(ldexp(err, s))));
      }
    }
  }
}

@compute @workgroup_size(WG_SCATTER)
fn scatter_resolve(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let max_bits = atomicLoad(&stats[0]);
  let s = select(0, fixed_shift(max_bits), max_bits != 0u && max_bits < NONFINITE_BITS);
  let total = nwg.x * nwg.y * WG_SCATTER;
  let first = flat_index(wg, nwg, lid, WG_SCATTER);
  if (first == 0u) {
    atomicStore(&stats[1], bitcast<u32>(s));
  }
  for (var i = first; i < sp.num_entries; i += total) {
    if (max_bits >= NONFINITE_BITS) {
      // A quiet NaN built at run time: WGSL rejects NaN constants.
      dtable[i] = bitcast<f32>(max_bits | 0x00400000u);
      continue;
    }
    var lo = atomicLoad(&acc[i]);
    var hi = atomicLoad(&acc[sp.num_entries + i]);
    let neg = (hi & 0x80000000u) != 0u;
    if (neg) {
      lo = ~lo + 1u;
      hi = ~hi + select(0u, 1u, lo == 0u);
    }
    // Magnitude first, sign last: adding a signed high part to an unsigned low part in float32
    // would cancel catastrophically for small negative sums.
    let mag = ldexp(f32(hi) * TWO32 + f32(lo), -s);
    dtable[i] = select(mag, -mag, neg);
  }
}

// Float32 compare-and-swap alternative: one CAS loop per contribution on acc's lo words.
fn acc_add_cas(i: u32, v: f32) {
  if (v == 0.0) {
    return;
  }
  var old = atomicLoad(&acc[i]);
  // Bounded: each failed exchange means another invocation's add landed, so the loop ends
  // once the contention on this word does; the cap only guards a broken driver.
  for (var t = 0u; t < 1048576u; t++) {
    let r = atomicCompareExchangeWeak(&acc[i], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) {
      return;
    }
    old = r.old_value;
  }
}

@compute @workgroup_size(WG_SCATTER)
fn scatter_add_cas(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_SCATTER;
  for (var i = flat_index(wg, nwg, lid, WG_SCATTER); i < work_items(); i += total) {
    let p = i / GRID_LEVELS;
    let l = i % GRID_LEVELS;
    var u: array<f32, 3>;
    if (l >= sp.active_levels || !point_u(p, &u)) {
      continue;
    }
    let lv = grid_levels[l];
    let cell = grid_cell(u, lv);
    for (var k = 0u; k < (1u << GRID_DIM); k++) {
      let w = grid_corner_weight(cell, k, GRID_DIM);
      let row = grid_corner_row(cell, lv, k) * GRID_FEATS;
      for (var ch = 0u; ch < GRID_FEATS; ch++) {
        acc_add_cas(row + ch, w * dout_at(p, l, ch));
      }
    }
  }
}

@compute @workgroup_size(WG_SCATTER)
fn scatter_resolve_cas(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_SCATTER;
  for (var i = flat_index(wg, nwg, lid, WG_SCATTER); i < sp.num_entries; i += total) {
    dtable[i] = bitcast<f32>(atomicLoad(&acc[i]));
  }
}
