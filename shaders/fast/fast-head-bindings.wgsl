// The fast head field's bindings (fast-head.wgsl, fast-head-gated.wgsl): the fast state
// (shaders/fast/fast-state.wgsl's layout, read as words) and the previous frame's FiLM vectors.
@group(0) @binding(10) var<storage, read_write> fast_state: array<u32>;
@group(0) @binding(11) var<uniform> film_prev: array<vec4f, FILM_VEC4>;
