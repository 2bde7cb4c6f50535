// The cell a point falls in at one grid level and its corners, for the training kernels (the
// forward in grid-params.wgsl, the backward in grid-scatter.wgsl and torso-train.wgsl). One
// rounding, fma(u, scale, 0.5), as nvcc's contracted u * scale + 0.5 and the CPU reference
// where the driver fuses fma (a separately rounded product moves frac by up to an ulp of q),
// so forward and backward agree on the cell. Needs common/grid-index.wgsl (GridLevel,
// grid_row) and GRID_DIM from the prelude.

struct GridCell {
  cell: array<u32, 3>,
  frac: array<f32, 3>,
}

fn grid_cell(u: array<f32, 3>, lv: GridLevel) -> GridCell {
  var g: GridCell;
  for (var d = 0u; d < GRID_DIM; d++) {
    let q = fma(u[d], lv.scale, 0.5);
    let c = floor(q);
    g.cell[d] = u32(c);
    g.frac[d] = q - c;
  }
  return g;
}

// Interpolation weight of corner c (bit d set: the upper vertex along axis d), over the axes
// other than `skip` (GRID_DIM: none; an axis: the weight's derivative in that axis' fraction,
// up to its sign).
fn grid_corner_weight(g: GridCell, c: u32, skip: u32) -> f32 {
  var w = 1.0;
  for (var d = 0u; d < GRID_DIM; d++) {
    if (d != skip) {
      w *= select(1.0 - g.frac[d], g.frac[d], ((c >> d) & 1u) != 0u);
    }
  }
  return w;
}

// Table row of corner c (the level's offset included, the parameter buffer's not).
fn grid_corner_row(g: GridCell, lv: GridLevel, c: u32) -> u32 {
  var corner = g.cell;
  for (var d = 0u; d < GRID_DIM; d++) {
    corner[d] += (c >> d) & 1u;
  }
  return grid_row(lv, corner);
}
