// Backward of a bias-free linear layer y = W x over a batch of N samples (weights [OUT_DIM,
// IN_DIM] row-major, as PyTorch's Linear and worker/model/mlp.ts), CPU reference
// trainer/nerf/cpu/mlp-backward.ts linearBackward + reluBackward:
//   linear_dx:          dX[n, i] = sum_o W[o, i] dY[n, o], zeroed where the input x (a ReLU
//                       output of the previous layer) was not positive when RELU_MASK is set.
//   linear_dw_partial:  partial[c, o, i] = sum over the CHUNK samples of chunk c of dY[n, o] X[n, i]
//   linear_dw_reduce:   dW[o, i] = sum over chunks, in chunk order.
// Two passes instead of atomics: sums in a fixed order, so the weight gradient is deterministic,
// and the chunking gives N / CHUNK times more parallel work than one thread per weight.
// Consts IN_DIM, OUT_DIM, CHUNK, RELU_MASK from the prelude.
override WG_MLP: u32 = 64u;

struct MlpParams {
  num_samples: u32,
  num_chunks: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> mp: MlpParams;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;
@group(0) @binding(6) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(WG_MLP)
fn linear_dx(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_MLP;
  for (var k = flat_index(wg, nwg, lid, WG_MLP); k < mp.num_samples * IN_DIM; k += total) {
    let n = k / IN_DIM;
    let i = k % IN_DIM;
    var s = 0.0;
    if (!RELU_MASK || x[k] > 0.0) {
      for (var o = 0u; o < OUT_DIM; o++) {
        s += w[o * IN_DIM + i] * dy[n * OUT_DIM + o];
      }
    }
    dx[k] = s;
  }
}

@compute @workgroup_size(WG_MLP)
fn linear_dw_partial(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_MLP;
  // Consecutive invocations take consecutive weights of one chunk: they read the same dY row
  // entries and neighbouring X entries.
  for (var k = flat_index(wg, nwg, lid, WG_MLP); k < mp.num_chunks * OUT_DIM * IN_DIM; k += total) {
    let c = k / (OUT_DIM * IN_DIM);
    let oi = k % (OUT_DIM * IN_DIM);
    let o = oi / IN_DIM;
    let i = oi % IN_DIM;
    let end = min(mp.num_samples, (c + 1u) * CHUNK);
    var s = 0.0;
    for (var n = c * CHUNK; n < end; n++) {
      s += dy[n * OUT_DIM + o] * x[n * IN_DIM + i];
    }
    partial[k] = s;
  }
}

@compute @workgroup_size(WG_MLP)
fn linear_dw_reduce(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let total = nwg.x * nwg.y * WG_MLP;
  for (var k = flat_index(wg, nwg, lid, WG_MLP); k < OUT_DIM * IN_DIM; k += total) {
    var s = 0.0;
    for (var c = 0u; c < mp.num_chunks; c++) {
      s += partial[c * OUT_DIM * IN_DIM + k];
    }
    dw[k] = s;
  }
}
