// Head field per sample (model-spec §5): grid features (+eye) -> FiLM-conditioned sigma net,
// SH(dir) ++ geo ++ individual code -> colour net. One invocation per sample slot of the pass;
// every invocation of a workgroup reads the same weight at the same time (a broadcast load).
override WG_FIELD: u32 = 64u;

struct FieldParams {
  eye: f32,
  num_rays: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> grid_emb: array<WT>;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> weights: array<WT>;
@group(0) @binding(3) var<storage, read> film: array<f32>;
@group(0) @binding(4) var<storage, read> samples: array<vec4f>;
@group(0) @binding(5) var<storage, read> rays: array<Ray>;
@group(0) @binding(6) var<storage, read> alive: array<u32>;
@group(0) @binding(7) var<storage, read_write> ctrl: Ctrl;
@group(0) @binding(8) var<storage, read_write> field_out: array<vec4f>;
@group(0) @binding(9) var<uniform> fp: FieldParams;

fn head_field(x: vec3f, d: vec3f) -> vec4f {
  var inp: array<f32, SIG_IN>;
  let u = array<f32, 3>((x.x + 1.0) * 0.5, (x.y + 1.0) * 0.5, (x.z + 1.0) * 0.5);
  if (grid_in_range(u)) {
    for (var l = 0u; l < GRID_LEVELS; l++) {
      let f = grid_level(u, l);
      for (var ch = 0u; ch < GRID_FEATS; ch++) {
        inp[l * GRID_FEATS + ch] = f[ch];
      }
    }
  }
  if (EYE_INPUT) {
    inp[SIG_IN - 1u] = fp.eye;
  }
  var h0: array<f32, HID>;
  for (var o = 0u; o < HID; o++) {
    var s = 0.0;
    let row = W_SIG0 + o * SIG_IN;
    for (var i = 0u; i < SIG_IN; i++) {
      s += f32(weights[row + i]) * inp[i];
    }
    h0[o] = max(s * (1.0 + film[HID + o]) + film[o], 0.0);
  }
  var h1: array<f32, HID>;
  for (var o = 0u; o < HID; o++) {
    var s = 0.0;
    let row = W_SIG1 + o * HID;
    for (var i = 0u; i < HID; i++) {
      s += f32(weights[row + i]) * h0[i];
    }
    h1[o] = max(s * (1.0 + film[FILM_OUT + HID + o]) + film[FILM_OUT + o], 0.0);
  }
  var cin: array<f32, COL_IN>;
  let sh = sh_encode(d);
  for (var i = 0u; i < SH_DIM; i++) {
    cin[i] = sh[i];
  }
  var sigma_raw = 0.0;
  for (var o = 0u; o < GEO + 1u; o++) {
    var s = 0.0;
    let row = W_SIG2 + o * HID;
    for (var i = 0u; i < HID; i++) {
      s += f32(weights[row + i]) * h1[i];
    }
    if (o == 0u) {
      sigma_raw = s;
    } else {
      cin[SH_DIM + o - 1u] = s;
    }
  }
  for (var i = 0u; i < IND; i++) {
    cin[SH_DIM + GEO + i] = f32(weights[W_IND + i]);
  }
  var hc: array<f32, CHID>;
  for (var o = 0u; o < CHID; o++) {
    var s = 0.0;
    let row = W_COL0 + o * COL_IN;
    for (var i = 0u; i < COL_IN; i++) {
      s += f32(weights[row + i]) * cin[i];
    }
    hc[o] = max(s, 0.0);
  }
  var rgb: vec3f;
  for (var o = 0u; o < 3u; o++) {
    var s = 0.0;
    let row = W_COL1 + o * CHID;
    for (var i = 0u; i < CHID; i++) {
      s += f32(weights[row + i]) * hc[i];
    }
    rgb[o] = 1.0 / (1.0 + exp(-s));
  }
  return vec4f(rgb, exp(sigma_raw));
}

@compute @workgroup_size(WG_FIELD)
fn head(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let slot = flat_index(wg, nwg, lid, WG_FIELD);
  let n_step = ctrl.n_step;
  if (n_step == 0u || slot >= ctrl.n_alive * n_step) {
    return;
  }
  let s = samples[slot];
  if (s.w == 0.0) {
    return;
  }
  let id = alive[ctrl.cur * fp.num_rays + slot / n_step];
  field_out[slot] = head_field(s.xyz, rays[id].dir);
}
