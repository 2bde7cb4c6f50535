// Fused torso path per pixel (model-spec §7, §7b.9): pixels failing the occupancy test leave
// at once; the others run `torso_mlp` (generated, worker/render/torso-codegen.ts: deform net,
// 2-D grid, torso net over vec4 blocks with per-frame folded biases) and blend over the background.
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
  let out4 = torso_mlp(q * tp.shrink);
  let alpha = out4.x;
  bg_out[n] = vec4f(out4.yzw * alpha + bg * (1.0 - alpha), alpha);
}
