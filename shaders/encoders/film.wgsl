// The two conditioning MLPs M_k: c -> hidden ReLU -> hidden ReLU -> film (model-spec §5), once
// per frame, one invocation per output row (of both MLPs at once) and no workgroup barriers.
// Weights are packed by the host (worker/render/condition-pass.ts) as vec4 chunks of a row,
// chunk-major: chunk k of row r sits at W_BASE + k * ROWS + r, so neighbouring invocations load
// neighbouring vec4s. The 10880-wide first layer is split along its input into SLICES partial
// sums (more invocations in flight on a wide GPU), which `film_reduce` adds up per row.
override WG_FILM: u32 = 64u;
// Rows of both MLPs together, and of one MLP (row r belongs to MLP r / ROWS_PER_MLP).
override ROWS: u32 = 1u;
override ROWS_PER_MLP: u32 = 1u;
// vec4 chunks of the input, and per slice.
override K: u32 = 1u;
override K_SLICE: u32 = 1u;
override SLICES: u32 = 1u;
override W_BASE: u32 = 0u;
// vec4s between the two MLPs' inputs (0: both read the same input, the code c).
override IN_STRIDE: u32 = 0u;
// Floats between the two MLPs' outputs (hidden layers: padded to a vec4; film: FILM_OUT).
override OUT_STRIDE: u32 = 1u;
override RELU: bool = true;

@group(0) @binding(0) var<storage, read> cw: array<vec4<WT>>;
@group(0) @binding(1) var<storage, read> x_in: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y_out: array<f32>;

fn finish(r: u32, s: f32) {
  let m = r / ROWS_PER_MLP;
  y_out[m * OUT_STRIDE + r % ROWS_PER_MLP] = select(s, max(s, 0.0), RELU);
}

// Invocation i = slice * ROWS + row. With SLICES > 1 it writes the raw partial sum y_out[i].
@compute @workgroup_size(WG_FILM)
fn film_layer(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= ROWS * SLICES) {
    return;
  }
  let r = i % ROWS;
  let slice = i / ROWS;
  let xb = (r / ROWS_PER_MLP) * IN_STRIDE;
  let k1 = min(K, (slice + 1u) * K_SLICE);
  var acc = vec4f(0.0);
  for (var k = slice * K_SLICE; k < k1; k++) {
    acc += vec4f(cw[W_BASE + k * ROWS + r]) * x_in[xb + k];
  }
  let s = (acc.x + acc.y) + (acc.z + acc.w);
  if (SLICES > 1u) {
    y_out[i] = s;
  } else {
    finish(r, s);
  }
}

// One invocation per row: adds the SLICES partial sums of film_layer (x_in holds them as floats).
@compute @workgroup_size(WG_FILM)
fn film_reduce(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= ROWS) {
    return;
  }
  var s = 0.0;
  for (var j = 0u; j < SLICES; j++) {
    let i = j * ROWS + r;
    s += x_in[i / 4u][i % 4u];
  }
  finish(r, s);
}
