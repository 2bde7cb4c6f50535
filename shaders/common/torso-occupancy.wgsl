// Torso occupancy (model-spec §7, §7b.9), shared by the fused and the scalar torso kernels.
// The including module declares `density` (the 128x128 torso density grid) and `tp`
// (TorsoParams with density_res).
fn density_at(ix: i32, iy: i32) -> f32 {
  let g = i32(tp.density_res);
  if (ix < 0 || iy < 0 || ix >= g || iy >= g) {
    return 0.0;
  }
  return density[u32(iy * g + ix)];
}

// grid_sample(align_corners=True, zeros): gx indexes the grid's width axis.
fn occupancy(gx: f32, gy: f32) -> f32 {
  let g = f32(tp.density_res) - 1.0;
  let fx = (gx + 1.0) * 0.5 * g;
  let fy = (gy + 1.0) * 0.5 * g;
  let x0 = floor(fx);
  let y0 = floor(fy);
  let wx = fx - x0;
  let wy = fy - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  return density_at(ix, iy) * (1.0 - wx) * (1.0 - wy) + density_at(ix + 1, iy) * wx * (1.0 - wy)
       + density_at(ix, iy + 1) * (1.0 - wx) * wy + density_at(ix + 1, iy + 1) * wx * wy;
}
