// The torso net (model-spec §7) over a batch of training pixels, forward with every activation
// kept, and the element-wise steps of its backward; the linear layers' backward runs in
// mlp-backward.wgsl and the 2-D grid table's in grid-scatter.wgsl (trainer/nerf/gpu/torso-net.ts
// sequences them). CPU reference: trainer/nerf/cpu/torso-sample.ts, pixel by pixel.
// Parameters are read from the torso's flat parameter buffer at the P_* offsets; activations
// and gradients live in [n, width] regions at the A_* / B_* offsets; consts from the prelude.
override WG_TORSO_TRAIN: u32 = 64u;

struct TorsoTrainParams {
  num_rays: u32,
  active_levels: u32,
  num_chunks: u32,
  _p0: u32,
}

@group(0) @binding(0) var<uniform> tt: TorsoTrainParams;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
// (qRow, qCol) in [-1, 1] per pixel (model/torso.ts torsoCoord).
@group(0) @binding(3) var<storage, read> coords: array<vec2f>;
// Forward activations; also the frame's encoded pose (A_FRAME, written by the host: the pose is
// data, encoded once per frame as the renderer does).
@group(0) @binding(4) var<storage, read_write> acts: array<f32>;
// Backward gradients in two buffers used alternately, layer by layer (see head-train.wgsl).
@group(0) @binding(5) var<storage, read_write> back1: array<f32>;
@group(0) @binding(6) var<storage, read_write> back2: array<f32>;
@group(0) @binding(7) var<storage, read_write> ray_out: array<vec4f>; // alpha, r, g, b
@group(0) @binding(8) var<storage, read> d_ray: array<vec4f>; // dL/dalpha, dL/drgb
@group(0) @binding(9) var<storage, read_write> grads: array<f32>;

const HALF_PI_T: f32 = 1.5707963267948966;
// worker/model/torso.ts TORSO_SHRINK (float32 0.8): the reference shrinks the pixel grid.
const SHRINK: f32 = 0.8;
// The freq-encoded pixel position: 2 raw values, then sin and cos of 2 values per octave.
const POS_DIM: u32 = 2u + 4u * POS_DEG;
const CODE_OFF: u32 = TIN - IND;
const GRID_W: u32 = GRID_LEVELS * GRID_FEATS;
const IND1: u32 = max(IND, 1u);

fn t_items(width: u32) -> u32 {
  return tt.num_rays * width;
}

// The pixel's position as the deform net sees it: (qRow, qCol) * shrink.
fn t_xy(n: u32) -> vec2f {
  return coords[n] * SHRINK;
}

fn t_dot(w: u32, x: u32, len: u32) -> f32 {
  var s = 0.0;
  for (var i = 0u; i < len; i++) {
    s += params[w + i] * acts[x + i];
  }
  return s;
}

// Input [freq(xy) | freq(pose) | torso code], one value per invocation.
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_input(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < t_items(TIN); k += total) {
    let n = k / TIN;
    let i = k % TIN;
    var v = 0.0;
    if (i < 2u) {
      v = t_xy(n)[i];
    } else if (i < POS_DIM) {
      let j = i - 2u;
      let octave = j / 4u;
      let r = j % 4u;
      let x = t_xy(n)[r % 2u] * f32(1u << octave);
      v = sin(select(x, x + HALF_PI_T, r >= 2u));
    } else if (i < CODE_OFF) {
      v = acts[A_FRAME + i - POS_DIM];
    } else {
      v = params[P_IND + i - CODE_OFF];
    }
    acts[A_INPUT + k] = v;
  }
}

@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_deform0(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < t_items(DEF); k += total) {
    let n = k / DEF;
    let o = k % DEF;
    acts[A_D1 + k] = max(t_dot(P_D0 + o * TIN, A_INPUT + n * TIN, TIN), 0.0);
  }
}

@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_deform1(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < t_items(DEF); k += total) {
    let n = k / DEF;
    let o = k % DEF;
    acts[A_D2 + k] = max(t_dot(P_D1 + o * DEF, A_D1 + n * DEF, DEF), 0.0);
  }
}

// The deform net's last layer moves the point: u = (clamp(xy + dx, -1, 1) + 1) / 2, kept with
// which axes stayed inside (the clamp passes gradient only there) in w: bit 0 row, bit 1 col.
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_deform2(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var n = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); n < tt.num_rays; n += total) {
    let xy = t_xy(n);
    var u = vec2f(0.0);
    var inside = 0u;
    for (var k = 0u; k < 2u; k++) {
      let raw = xy[k] + t_dot(P_D2 + k * DEF, A_D2 + n * DEF, DEF);
      if (raw > -1.0 && raw < 1.0) {
        inside |= 1u << k;
      }
      u[k] = (clamp(raw, -1.0, 1.0) + 1.0) * 0.5;
    }
    acts[A_U + 4u * n] = u.x;
    acts[A_U + 4u * n + 1u] = u.y;
    acts[A_U + 4u * n + 2u] = 0.0;
    acts[A_U + 4u * n + 3u] = f32(inside);
  }
}

fn t_u(n: u32) -> array<f32, 3> {
  return array<f32, 3>(acts[A_U + 4u * n], acts[A_U + 4u * n + 1u], 0.0);
}

// Net input [grid features (levels not yet released read zero) | deform input], one
// (pixel, level) per invocation; level 0's invocation also copies the deform input.
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_grid(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < t_items(GRID_LEVELS); k += total) {
    let n = k / GRID_LEVELS;
    let l = k % GRID_LEVELS;
    let u = t_u(n);
    if (l == 0u) {
      for (var i = 0u; i < TIN; i++) {
        acts[A_NETIN + n * NETW + GRID_W + i] = acts[A_INPUT + n * TIN + i];
      }
    }
    let f = grid_level_params(u, l, tt.active_levels, P_GRID);
    for (var ch = 0u; ch < GRID_FEATS; ch++) {
      acts[A_NETIN + n * NETW + l * GRID_FEATS + ch] = f[ch];
    }
  }
}

@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_net0(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < t_items(HID); k += total) {
    let n = k / HID;
    let o = k % HID;
    acts[A_N1 + k] = max(t_dot(P_N0 + o * NETW, A_NETIN + n * NETW, NETW), 0.0);
  }
}

@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_net1(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < t_items(HID); k += total) {
    let n = k / HID;
    let o = k % HID;
    acts[A_N2 + k] = max(t_dot(P_N1 + o * HID, A_N1 + n * HID, HID), 0.0);
  }
}

// (alpha, r, g, b) = sigmoid of the last layer: what the loop composites.
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tf_output(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var n = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); n < tt.num_rays; n += total) {
    var o4 = vec4f(0.0);
    for (var k = 0u; k < 4u; k++) {
      o4[k] = 1.0 / (1.0 + exp(-t_dot(P_N2 + k * HID, A_N2 + n * HID, HID)));
    }
    ray_out[n] = o4;
  }
}

// Backward through the sigmoids: dL/dlogit = dL/dout * out * (1 - out).
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tb_logits(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var n = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); n < tt.num_rays; n += total) {
    let o4 = ray_out[n];
    let d = d_ray[n] * o4 * (vec4f(1.0) - o4);
    for (var k = 0u; k < 4u; k++) {
      back1[B_DO + 4u * n + k] = d[k];
    }
  }
}

// dL/d(xy + dx) through the grid's input (CPU reference cpu/grid-input-backward.ts) and the
// clamp and the affine map to u: per level, out is multilinear in frac = u * scale + 0.5 - cell,
// so dout/du_d = scale * sum over corners of table row . dOut times the derivative of the
// corner's weight in frac_d (+-1 times the other axis' weight).
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tb_grid_input(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var n = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); n < tt.num_rays; n += total) {
    let u = t_u(n);
    var du = vec2f(0.0);
    if (grid_in_range(u)) {
      for (var l = 0u; l < min(tt.active_levels, GRID_LEVELS); l++) {
        let lv = grid_levels[l];
        let g = grid_cell(u, lv);
        for (var c = 0u; c < (1u << GRID_DIM); c++) {
          let row = P_GRID + grid_corner_row(g, lv, c) * GRID_FEATS;
          var dot = 0.0;
          for (var ch = 0u; ch < GRID_FEATS; ch++) {
            dot += back2[B_DNETIN + n * NETW + l * GRID_FEATS + ch] * params[row + ch];
          }
          for (var d = 0u; d < 2u; d++) {
            let sign = select(-1.0, 1.0, ((c >> d) & 1u) != 0u);
            du[d] += lv.scale * sign * grid_corner_weight(g, c, d) * dot;
          }
        }
      }
    }
    let inside = u32(acts[A_U + 4u * n + 3u]);
    for (var d = 0u; d < 2u; d++) {
      back1[B_DDX + 2u * n + d] = select(0.0, du[d] * 0.5, ((inside >> d) & 1u) != 0u);
    }
  }
}

// dL/d torso code = sum over pixels of the code's gradient through the deform net's input and
// through the torso net's input: per-chunk partial sums, then a reduce in chunk order.
@compute @workgroup_size(WG_TORSO_TRAIN)
fn tb_individual_partial(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_TORSO_TRAIN;
  for (var k = flat_index(wg, nwg, lid, WG_TORSO_TRAIN); k < tt.num_chunks * IND; k += total) {
    let c = k / IND1;
    let i = k % IND1;
    let end = min(tt.num_rays, (c + 1u) * CHUNK);
    var s = 0.0;
    for (var n = c * CHUNK; n < end; n++) {
      s += back2[B_DINPUT + n * TIN + CODE_OFF + i] + back2[B_DNETIN + n * NETW + GRID_W + CODE_OFF + i];
    }
    acts[A_PART + k] = s;
  }
}

@compute @workgroup_size(WG_TORSO_TRAIN)
fn tb_individual_reduce(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wg, nwg, lid, WG_TORSO_TRAIN);
  if (i >= IND) {
    return;
  }
  var s = 0.0;
  for (var c = 0u; c < tt.num_chunks; c++) {
    s += acts[A_PART + c * IND1 + i];
  }
  grads[G_IND + i] = s;
}
