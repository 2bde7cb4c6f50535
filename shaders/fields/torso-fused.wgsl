// Fused torso path (model-spec §7, §7b.9), SPI consecutive pixels per invocation: a group whose
// pixels all fail the occupancy test leaves at once; otherwise `torso_mlp` (generated,
// worker/render/torso-codegen.ts: deform net, 2-D grid, torso net over vec4 blocks with per-frame
// folded biases, each weight block read once for all SPI pixels) runs and occupied pixels blend
// over the background.
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

@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
// binding 2 (and more banks): the generated weight arrays wm0.. (mlp-codegen.ts)
@group(0) @binding(3) var<storage, read> density: array<f32>;
@group(0) @binding(4) var<storage, read> background: array<f32>;
@group(0) @binding(5) var<storage, read> tbias: array<vec4f, TBIAS_LEN>; // folded frame-constant columns
@group(0) @binding(6) var<storage, read_write> bg_out: array<vec4f>;
@group(0) @binding(7) var<uniform> tp: TorsoParams;

const HALF_PI: f32 = 1.5707963267948966;

@compute @workgroup_size(WG_TORSO)
fn torso_fused(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n0 = flat_index(wg, nwg, lid, WG_TORSO) * SPI;
  let count = tp.width * tp.height;
  if (n0 >= count) {
    return;
  }
  var qs: array<vec2f, SPI>;
  var occupied: array<bool, SPI>;
  var any_occupied = false;
  for (var s = 0u; s < SPI; s++) {
    let n = min(n0 + s, count - 1u);
    let col = n % tp.width;
    let row = n / tp.width;
    let q = vec2f(f32(row) / f32(max(tp.height, 2u) - 1u) * 2.0 - 1.0, f32(col) / f32(max(tp.width, 2u) - 1u) * 2.0 - 1.0);
    qs[s] = q * tp.shrink;
    occupied[s] = occupancy(q.x, q.y) > tp.threshold;
    any_occupied = any_occupied || occupied[s];
  }
  var out: array<vec4f, SPI>;
  if (any_occupied) {
    out = torso_mlp(qs);
  }
  for (var s = 0u; s < SPI && n0 + s < count; s++) {
    let n = n0 + s;
    let bg = vec3f(background[n * 3u], background[n * 3u + 1u], background[n * 3u + 2u]);
    if (occupied[s]) {
      let alpha = out[s].x;
      bg_out[n] = vec4f(out[s].yzw * alpha + bg * (1.0 - alpha), alpha);
    } else {
      bg_out[n] = vec4f(bg, 0.0);
    }
  }
}
