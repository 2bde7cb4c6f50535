// The two conditioning MLPs M_k: c -> hidden ReLU -> hidden ReLU -> film (model-spec §5), once per frame.
// Consts: COND_IN, COND_HID, FILM_OUT, W_M1_0.. offsets into `weights`.
override WG_FILM: u32 = 64u;

@group(0) @binding(0) var<storage, read> weights: array<WT>;
@group(0) @binding(1) var<storage, read> code: array<f32>;
@group(0) @binding(2) var<storage, read_write> hidden0: array<f32>;
@group(0) @binding(3) var<storage, read_write> film: array<f32>;

var<workgroup> partial: array<f32, 256>;
var<workgroup> h_a: array<f32, COND_HID>;
var<workgroup> h_b: array<f32, COND_HID>;

fn layer0_offset(k: u32) -> u32 {
  return select(W_M2_0, W_M1_0, k == 0u);
}

// One workgroup per (row, mlp): the 10880-long dot products dominate this stage.
@compute @workgroup_size(WG_FILM)
fn film_layer0(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  let k = wg.y;
  let base = layer0_offset(k) + row * COND_IN;
  var s = 0.0;
  for (var i = lid; i < COND_IN; i += WG_FILM) {
    s += f32(weights[base + i]) * code[i];
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var stride = WG_FILM / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    hidden0[k * COND_HID + row] = max(partial[0], 0.0);
  }
}

// One workgroup per mlp for the two small layers.
@compute @workgroup_size(WG_FILM)
fn film_tail(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wg.x;
  let w1 = select(W_M2_1, W_M1_1, k == 0u);
  let w2 = select(W_M2_2, W_M1_2, k == 0u);
  for (var r = lid; r < COND_HID; r += WG_FILM) {
    h_a[r] = hidden0[k * COND_HID + r];
  }
  workgroupBarrier();
  for (var r = lid; r < COND_HID; r += WG_FILM) {
    var s = 0.0;
    for (var i = 0u; i < COND_HID; i++) {
      s += f32(weights[w1 + r * COND_HID + i]) * h_a[i];
    }
    h_b[r] = max(s, 0.0);
  }
  workgroupBarrier();
  for (var r = lid; r < FILM_OUT; r += WG_FILM) {
    var s = 0.0;
    for (var i = 0u; i < COND_HID; i++) {
      s += f32(weights[w2 + r * COND_HID + i]) * h_b[i];
    }
    film[k * FILM_OUT + r] = s;
  }
}
