// Flat invocation index of a possibly 2-D dispatch: large work is split over y because a single
// dispatch dimension is capped (65535 groups) and huge 1-D dispatches abort some drivers.
fn flat_index(wg: vec3u, nwg: vec3u, lid: u32, wg_size: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * wg_size + lid;
}
