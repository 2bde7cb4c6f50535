// Torso path per pixel (model-spec §7, §7b.9): occupancy from the 2-D density grid, deform net,
// 2-D grid, torso net, then the torso blended over the background -> bg'.
override WG_TORSO: u32 = 64u;

struct TorsoParams {
  width: u32,
  height: u32,
  density_res: u32,
  _p0: u32,
  threshold: f32,
  shrink: f32,
  _p1: f32,
  _p2: f32,
}

@group(0) @binding(0) var<storage, read> grid_emb: array<WT>;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> weights: array<WT>;
@group(0) @binding(3) var<storage, read> density: array<f32>;
@group(0) @binding(4) var<storage, read> background: array<f32>;
@group(0) @binding(5) var<storage, read> frame_tail: array<f32>; // freq(pose) ++ torso code
@group(0) @binding(6) var<storage, read_write> bg_out: array<vec4f>;
@group(0) @binding(7) var<uniform> tp: TorsoParams;

const HALF_PI: f32 = 1.5707963267948966;

@compute @workgroup_size(WG_TORSO)
fn torso(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = flat_index(wg, nwg, lid, WG_TORSO);
  if (n >= tp.width * tp.height) {
    return;
  }
  let col = n % tp.width;
  let row = n / tp.width;
  let bg = vec3f(background[n * 3u], background[n * 3u + 1u], background[n * 3u + 2u]);
  let q = vec2f(f32(row) / f32(max(tp.height, 2u) - 1u) * 2.0 - 1.0, f32(col) / f32(max(tp.width, 2u) - 1u) * 2.0 - 1.0);
  if (!(occupancy(q.x, q.y) > tp.threshold)) {
    bg_out[n] = vec4f(bg, 0.0);
    return;
  }
  let x = q * tp.shrink;
  var h: array<f32, T_IN>;
  h[0] = x.x;
  h[1] = x.y;
  for (var k = 0u; k < T_POS_DEG; k++) {
    let f = f32(1u << k);
    h[2u + k * 4u] = sin(x.x * f);
    h[3u + k * 4u] = sin(x.y * f);
    h[4u + k * 4u] = sin(x.x * f + HALF_PI);
    h[5u + k * 4u] = sin(x.y * f + HALF_PI);
  }
  let pos_len = 2u + 4u * T_POS_DEG;
  for (var i = pos_len; i < T_IN; i++) {
    h[i] = frame_tail[i - pos_len];
  }
  var d0: array<f32, T_DEF>;
  for (var o = 0u; o < T_DEF; o++) {
    var s = 0.0;
    for (var i = 0u; i < T_IN; i++) {
      s += f32(weights[W_TD0 + o * T_IN + i]) * h[i];
    }
    d0[o] = max(s, 0.0);
  }
  var d1: array<f32, T_DEF>;
  for (var o = 0u; o < T_DEF; o++) {
    var s = 0.0;
    for (var i = 0u; i < T_DEF; i++) {
      s += f32(weights[W_TD1 + o * T_DEF + i]) * d0[i];
    }
    d1[o] = max(s, 0.0);
  }
  var dx = vec2f(0.0);
  for (var o = 0u; o < 2u; o++) {
    var s = 0.0;
    for (var i = 0u; i < T_DEF; i++) {
      s += f32(weights[W_TD2 + o * T_DEF + i]) * d1[i];
    }
    dx[o] = s;
  }
  let xd = clamp(x + dx, vec2f(-1.0), vec2f(1.0));
  let u = array<f32, 3>((xd.x + 1.0) * 0.5, (xd.y + 1.0) * 0.5, 0.0);
  var tin: array<f32, T_NET_IN>;
  for (var l = 0u; l < GRID_LEVELS; l++) {
    let f = grid_level(u, l);
    for (var ch = 0u; ch < GRID_FEATS; ch++) {
      tin[l * GRID_FEATS + ch] = f[ch];
    }
  }
  for (var i = 0u; i < T_IN; i++) {
    tin[GRID_LEVELS * GRID_FEATS + i] = h[i];
  }
  var a0: array<f32, T_HID>;
  for (var o = 0u; o < T_HID; o++) {
    var s = 0.0;
    for (var i = 0u; i < T_NET_IN; i++) {
      s += f32(weights[W_TN0 + o * T_NET_IN + i]) * tin[i];
    }
    a0[o] = max(s, 0.0);
  }
  var a1: array<f32, T_HID>;
  for (var o = 0u; o < T_HID; o++) {
    var s = 0.0;
    for (var i = 0u; i < T_HID; i++) {
      s += f32(weights[W_TN1 + o * T_HID + i]) * a0[i];
    }
    a1[o] = max(s, 0.0);
  }
  var out4 = vec4f(0.0);
  for (var o = 0u; o < 4u; o++) {
    var s = 0.0;
    for (var i = 0u; i < T_HID; i++) {
      s += f32(weights[W_TN2 + o * T_HID + i]) * a1[i];
    }
    out4[o] = 1.0 / (1.0 + exp(-s));
  }
  let alpha = out4.x;
  bg_out[n] = vec4f(out4.yzw * alpha + bg * (1.0 - alpha), alpha);
}
