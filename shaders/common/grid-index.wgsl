// Grid table indexing shared by the scalar (grid.wgsl) and vector (grid-vec.wgsl) encoders,
// torch-ngp GridEncoder semantics (model-spec §4). Consts GRID_DIM, GRID_HASH from the prelude.
// Level scales and resolutions come from the host (float32 maths there), never from a shader exp2.

struct GridLevel {
  scale: f32,
  resolution: u32,
  table_size: u32,
  offset: u32,
}

// u32 arithmetic wraps exactly like the CUDA kernel's uint32_t, which the tiled stride loop relies on.
fn grid_row(lv: GridLevel, corner: array<u32, 3>) -> u32 {
  var stride = 1u;
  var index = 0u;
  for (var d = 0u; d < GRID_DIM && stride <= lv.table_size; d++) {
    index += corner[d] * stride;
    stride *= lv.resolution + 1u;
  }
  if (GRID_HASH && stride > lv.table_size) {
    index = corner[0] ^ (corner[1] * 2654435761u);
    if (GRID_DIM > 2u) {
      index ^= corner[2] * 805459861u;
    }
  }
  return (index % lv.table_size) + lv.offset;
}

fn grid_in_range(u: array<f32, 3>) -> bool {
  for (var d = 0u; d < GRID_DIM; d++) {
    if (!(u[d] >= 0.0 && u[d] <= 1.0)) {
      return false;
    }
  }
  return true;
}
