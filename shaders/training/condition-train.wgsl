// The per-frame conditioning (model-spec §3, §5) for training: landmark window -> code c (grid
// encoding of every window point, levels not yet released zeroed) -> the two FiLM MLPs
// (linear -> ReLU -> linear -> ReLU -> linear) -> film1, film2, written straight into the head
// field's activation buffer. Activations kept for the backward, whose linear layers and grid
// scatter run in mlp-backward.wgsl / grid-scatter.wgsl (trainer/nerf/gpu/condition-net.ts).
// CPU reference: trainer/nerf/cpu/conditioning.ts. Consts from the prelude.
override WG_COND: u32 = 64u;

struct CondParams {
  active_levels: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> cp: CondParams;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read> points: array<f32>; // window x landmarks x 3, in [-1, 1]
@group(0) @binding(4) var<storage, read_write> acts: array<f32>;
@group(0) @binding(5) var<storage, read_write> film_out: array<f32>; // film1 at 0, film2 at FILM_STRIDE
@group(0) @binding(6) var<storage, read_write> back1: array<f32>;
@group(0) @binding(7) var<storage, read_write> back2: array<f32>;

fn h1_base(k: u32) -> u32 {
  return select(A_H1_0, A_H1_1, k == 1u);
}
fn h2_base(k: u32) -> u32 {
  return select(A_H2_0, A_H2_1, k == 1u);
}
fn weight_base(k: u32, layer: u32) -> u32 {
  let w0 = select(P_M1_0, P_M2_0, k == 1u);
  let w1 = select(P_M1_1, P_M2_1, k == 1u);
  let w2 = select(P_M1_2, P_M2_2, k == 1u);
  return select(select(w2, w1, layer == 1u), w0, layer == 0u);
}

@compute @workgroup_size(WG_COND)
fn cf_code(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_COND;
  for (var k = flat_index(wg, nwg, lid, WG_COND); k < NUM_POINTS * GRID_LEVELS; k += total) {
    let p = k / GRID_LEVELS;
    let l = k % GRID_LEVELS;
    var u: array<f32, 3>;
    for (var d = 0u; d < 3u; d++) {
      // The renderer's rounding: (p + 1) in float32, then halved.
      u[d] = (points[3u * p + d] + 1.0) * 0.5;
    }
    if (l == 0u) {
      acts[A_U + 4u * p] = u[0];
      acts[A_U + 4u * p + 1u] = u[1];
      acts[A_U + 4u * p + 2u] = u[2];
      acts[A_U + 4u * p + 3u] = 0.0;
    }
    let f = grid_level_params(u, l, cp.active_levels, P_LM);
    for (var ch = 0u; ch < GRID_FEATS; ch++) {
      acts[A_CODE + k * GRID_FEATS + ch] = f[ch];
    }
  }
}

// One output of one MLP per invocation; the first layer's dot products run over the whole code.
@compute @workgroup_size(WG_COND)
fn cf_layer0(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_COND);
  if (i >= 2u * COND_HID) {
    return;
  }
  let k = i / COND_HID;
  let o = i % COND_HID;
  let w = weight_base(k, 0u) + o * CODE_LEN;
  var s = 0.0;
  for (var j = 0u; j < CODE_LEN; j++) {
    s += params[w + j] * acts[A_CODE + j];
  }
  acts[h1_base(k) + o] = max(s, 0.0);
}

@compute @workgroup_size(WG_COND)
fn cf_layer1(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_COND);
  if (i >= 2u * COND_HID) {
    return;
  }
  let k = i / COND_HID;
  let o = i % COND_HID;
  let w = weight_base(k, 1u) + o * COND_HID;
  var s = 0.0;
  for (var j = 0u; j < COND_HID; j++) {
    s += params[w + j] * acts[h1_base(k) + j];
  }
  acts[h2_base(k) + o] = max(s, 0.0);
}

@compute @workgroup_size(WG_COND)
fn cf_layer2(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_COND);
  if (i >= 2u * FILM_OUT) {
    return;
  }
  let k = i / FILM_OUT;
  let o = i % FILM_OUT;
  let w = weight_base(k, 2u) + o * COND_HID;
  var s = 0.0;
  for (var j = 0u; j < COND_HID; j++) {
    s += params[w + j] * acts[h2_base(k) + j];
  }
  film_out[k * FILM_STRIDE + o] = s;
}

// dL/dcode: both MLPs read the same code, so their input gradients add.
@compute @workgroup_size(WG_COND)
fn cb_code_sum(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_COND;
  for (var i = flat_index(wg, nwg, lid, WG_COND); i < CODE_LEN; i += total) {
    back2[B_DCODE + i] = back1[B_DCODE_0 + i] + back1[B_DCODE_1 + i];
  }
}
