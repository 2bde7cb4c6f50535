// Output frames (worker/render/compose-pass.ts): the native RGBA8 frame scaled to fit the output
// and centred, over the native background extended to the output size by mirrored sampling;
// then the same frame as I420 (BT.601 limited range), byte-exact to worker/render/i420.ts.
override WG_OUT: u32 = 64u;

struct ComposeParams {
  src_w: u32,
  src_h: u32,
  dst_w: u32,
  dst_h: u32,
  scale: f32, // output pixels per native pixel
  ox: f32,    // avatar rectangle origin in the output, pixels
  oy: f32,
  i420_words: u32,
}

@group(0) @binding(0) var<storage, read> src: array<u32>;        // native RGBA8
@group(0) @binding(1) var<storage, read> background: array<f32>; // native RGB in [0,1]
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;  // output RGBA8
@group(0) @binding(3) var out_tex: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(4) var<uniform> cp: ComposeParams;
@group(0) @binding(5) var<storage, read_write> i420: array<u32>; // Y, then U, then V planes

fn src_px(x: i32, y: i32) -> vec3f {
  let cx = clamp(x, 0, i32(cp.src_w) - 1);
  let cy = clamp(y, 0, i32(cp.src_h) - 1);
  let v = src[u32(cy) * cp.src_w + u32(cx)];
  return vec3f(f32(v & 255u), f32((v >> 8u) & 255u), f32((v >> 16u) & 255u));
}

fn mirror(i: i32, n: i32) -> i32 {
  let p = 2 * n;
  let m = ((i % p) + p) % p;
  return select(m, p - 1 - m, m >= n);
}

fn bg_px(x: i32, y: i32) -> vec3f {
  let n = u32(mirror(y, i32(cp.src_h))) * cp.src_w + u32(mirror(x, i32(cp.src_w)));
  return vec3f(background[n * 3u], background[n * 3u + 1u], background[n * 3u + 2u]) * 255.0;
}

@compute @workgroup_size(WG_OUT)
fn compose(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = flat_index(wg, nwg, lid, WG_OUT);
  if (n >= cp.dst_w * cp.dst_h) {
    return;
  }
  let x = n % cp.dst_w;
  let y = n / cp.dst_w;
  let px = f32(x) + 0.5;
  let py = f32(y) + 0.5;
  let u = (px - cp.ox) / cp.scale - 0.5;
  let v = (py - cp.oy) / cp.scale - 0.5;
  let inside = px >= cp.ox && px < cp.ox + f32(cp.src_w) * cp.scale && py >= cp.oy && py < cp.oy + f32(cp.src_h) * cp.scale;
  let x0 = floor(u);
  let y0 = floor(v);
  let fx = u - x0;
  let fy = v - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  var c: vec3f;
  if (inside) {
    c = mix(mix(src_px(ix, iy), src_px(ix + 1, iy), fx), mix(src_px(ix, iy + 1), src_px(ix + 1, iy + 1), fx), fy);
  } else {
    c = mix(mix(bg_px(ix, iy), bg_px(ix + 1, iy), fx), mix(bg_px(ix, iy + 1), bg_px(ix + 1, iy + 1), fx), fy);
  }
  let b = vec3u(clamp(floor(c + 0.5), vec3f(0.0), vec3f(255.0)));
  dst[n] = b.x | (b.y << 8u) | (b.z << 16u) | (255u << 24u);
  textureStore(out_tex, vec2u(x, y), vec4f(vec3f(b) / 255.0, 1.0));
}

fn rgb_at(x: u32, y: u32) -> vec3f {
  let v = dst[y * cp.dst_w + x];
  return vec3f(f32(v & 255u), f32((v >> 8u) & 255u), f32((v >> 16u) & 255u));
}

fn to_byte(v: f32) -> u32 {
  return u32(clamp(floor(v + 0.5), 0.0, 255.0));
}

// BT.601 limited range from 8-bit RGB; chroma from the mean of each 2x2 block.
fn i420_byte(i: u32) -> u32 {
  let w = cp.dst_w;
  let ysize = w * cp.dst_h;
  let cw = w / 2u;
  let csize = cw * (cp.dst_h / 2u);
  if (i < ysize) {
    let c = rgb_at(i % w, i / w);
    return to_byte(16.0 + (65.481 * c.x + 128.553 * c.y + 24.966 * c.z) / 255.0);
  }
  if (i >= ysize + 2u * csize) {
    return 0u;
  }
  let k = (i - ysize) % csize;
  let cx = 2u * (k % cw);
  let cy = 2u * (k / cw);
  let c = (rgb_at(cx, cy) + rgb_at(cx + 1u, cy) + rgb_at(cx, cy + 1u) + rgb_at(cx + 1u, cy + 1u)) * 0.25;
  if (i < ysize + csize) {
    return to_byte(128.0 + (-37.797 * c.x - 74.203 * c.y + 112.0 * c.z) / 255.0);
  }
  return to_byte(128.0 + (112.0 * c.x - 93.786 * c.y - 18.214 * c.z) / 255.0);
}

@compute @workgroup_size(WG_OUT)
fn to_i420(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wg, nwg, lid, WG_OUT);
  if (t >= cp.i420_words) {
    return;
  }
  let b = 4u * t;
  i420[t] = i420_byte(b) | (i420_byte(b + 1u) << 8u) | (i420_byte(b + 2u) << 16u) | (i420_byte(b + 3u) << 24u);
}
