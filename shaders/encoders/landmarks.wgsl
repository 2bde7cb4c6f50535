// Landmark window -> code c (model-spec §3): one invocation per (point, level).
// c is laid out point -> level -> channel, the order the conditioning MLPs were trained on.
override WG_LM: u32 = 64u;

struct LmParams {
  num_points: u32,
  smoothing: f32, // EMA weight of the previous code; 0 disables
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> grid_emb: array<WT>;
@group(0) @binding(1) var<uniform> grid_levels: array<GridLevel, GRID_LEVELS>;
@group(0) @binding(2) var<storage, read> points: array<f32>;
@group(0) @binding(3) var<storage, read_write> code: array<f32>;
@group(0) @binding(4) var<storage, read_write> prev_code: array<f32>;
@group(0) @binding(5) var<uniform> lm: LmParams;

@compute @workgroup_size(WG_LM)
fn encode_landmarks(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= lm.num_points * GRID_LEVELS) {
    return;
  }
  let p = i / GRID_LEVELS;
  let l = i % GRID_LEVELS;
  var u: array<f32, 3>;
  for (var d = 0u; d < 3u; d++) {
    u[d] = (points[p * 3u + d] + 1.0) * 0.5;
  }
  var f: array<f32, GRID_FEATS>;
  if (grid_in_range(u)) {
    f = grid_level(u, l);
  }
  let base = (p * GRID_LEVELS + l) * GRID_FEATS;
  for (var ch = 0u; ch < GRID_FEATS; ch++) {
    code[base + ch] = f[ch];
  }
}

// Lip EMA on the code (model-spec §7b.5): previous = the already smoothed code.
@compute @workgroup_size(WG_LM)
fn smooth_code(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= arrayLength(&code)) {
    return;
  }
  var v = code[i];
  if (lm.smoothing > 0.0) {
    v = lm.smoothing * prev_code[i] + (1.0 - lm.smoothing) * v;
    code[i] = v;
  }
  prev_code[i] = v;
}
