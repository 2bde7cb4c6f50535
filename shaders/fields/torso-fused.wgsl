// Fused torso path (model-spec §7, §7b.9) over the torso pixels only: the occupancy test depends
// on the avatar alone, so the host lists the pixels it keeps once (worker/model/torso.ts
// torsoPixels, the CPU reference's own test) and `bg_out` starts as the plain background. SPI
// listed pixels per invocation run `torso_mlp` (generated, worker/render/torso-codegen.ts: deform
// net, 2-D grid, torso net over vec4 blocks with per-frame folded biases, each weight block read
// once for all SPI pixels) and blend over the background. A per-pixel test in the kernel cost
// SwiftShader ~40% of the torso time on groups with no torso pixel at all (masked lanes still
// run most of the MLP).
override WG_TORSO: u32 = 64u;

struct TorsoParams {
  width: u32,
  height: u32,
  density_res: u32,
  n_pixels: u32, // entries of torso_pixels
  threshold: f32,
  shrink: f32,
  // 1: write the premultiplied torso (rgb * alpha, alpha) without the background, for fast
  // mode's host to interpolate (worker/model/fast-torso.ts); 0: bg' over the background.
  premultiplied: u32,
  _p2: f32,
}

@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
// binding 2 (and more banks): the generated weight arrays wm0.. (mlp-codegen.ts)
@group(0) @binding(3) var<storage, read> torso_pixels: array<u32>;
@group(0) @binding(4) var<storage, read> background: array<f32>;
// folded frame-constant columns, then (fast mode) the position tables (torso-codegen.ts)
@group(0) @binding(5) var<storage, read> tbias: array<vec4f, TBIAS_LEN>;
@group(0) @binding(6) var<storage, read_write> bg_out: array<vec4f>;
@group(0) @binding(7) var<uniform> tp: TorsoParams;

const HALF_PI: f32 = 1.5707963267948966;

@compute @workgroup_size(WG_TORSO)
fn torso_fused(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = flat_index(wg, nwg, lid, WG_TORSO) * SPI;
  let count = tp.n_pixels;
  if (i0 >= count) {
    return;
  }
  // A short last group repeats its final pixel (computed, never stored twice).
  var qs: array<vec2f, SPI>;
  var rcs: array<vec2u, SPI>;
  var ns: array<u32, SPI>;
  for (var s = 0u; s < SPI; s++) {
    let n = torso_pixels[min(i0 + s, count - 1u)];
    ns[s] = n;
    let col = n % tp.width;
    let row = n / tp.width;
    let q = vec2f(f32(row) / f32(max(tp.height, 2u) - 1u) * 2.0 - 1.0, f32(col) / f32(max(tp.width, 2u) - 1u) * 2.0 - 1.0);
    qs[s] = q * tp.shrink;
    rcs[s] = vec2u(row, col);
  }
  let out = torso_eval(qs, rcs);
  for (var s = 0u; s < SPI && i0 + s < count; s++) {
    let n = ns[s];
    let bg = vec3f(background[n * 3u], background[n * 3u + 1u], background[n * 3u + 2u]);
    let alpha = out[s].x;
    if (tp.premultiplied != 0u) {
      bg_out[n] = vec4f(out[s].yzw * alpha, alpha);
    } else {
      bg_out[n] = vec4f(out[s].yzw * alpha + bg * (1.0 - alpha), alpha);
    }
  }
}
