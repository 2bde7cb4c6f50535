#!/usr/bin/env bash
# Regenerates the built-in avatar, assets/avatars/builtin.r2t, from scratch with our own tools:
#   1. `r2talker synth-subject`: a procedural person (worker/synth; nobody's face) talking in
#      front of a fixed camera, written in the reference subject layout;
#   2. `r2talker train --stage all`: the R2-Talker NeRF (head, lips, torso) trained on it (CPU);
#   3. scripts/pack-builtin-avatar.ts: float16 weights, name and provenance;
#   4. `r2talker eval`: held-out (validation split) PSNR / SSIM / mouth PSNR of the shipped file.
# Every random draw is seeded: the same machine and software give the same file.
# Arguments: [work dir, default .cache/builtin-avatar] [out file, default assets/avatars/builtin.r2t]
# Environment: BUILTIN_SIZE, BUILTIN_FRAMES, BUILTIN_ZOOM, BUILTIN_ITERS, BUILTIN_SEED override the recipe (for
# experiments; the shipped file uses the defaults below).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-.cache/builtin-avatar}"
out="${2:-assets/avatars/builtin.r2t}"
size="${BUILTIN_SIZE:-192}"
frames="${BUILTIN_FRAMES:-300}"
zoom="${BUILTIN_ZOOM:-1.5}"
# Steps per stage: the preset's own schedule (tiny: head 2000, lips 500, torso 1500) unless set.
iters="${BUILTIN_ITERS:-}"
seed="${BUILTIN_SEED:-8}"
preset=tiny
r2t() { node bin/r2talker.js "$@"; }

mkdir -p "$work"
start=$SECONDS
echo "make-builtin-avatar: 1/4 synthetic subject ${size}px, ${frames} frames, zoom ${zoom}, seed ${seed} -> $work/subject"
r2t synth-subject --out "$work/subject" --size "$size" --frames "$frames" --zoom "$zoom" --seed "$seed" --overwrite
synth_s=$((SECONDS - start))

echo "make-builtin-avatar: 2/4 training (preset ${preset}, ${iters:-default} steps per stage, head+lips+torso, seed ${seed})"
t0=$SECONDS
# A fresh run each time: a leftover checkpoint from another recipe must not be resumed.
rm -f "$work/trained.r2t" "$work/trained.r2t.ckpt"
r2t train --data "$work/subject" --out "$work/trained.r2t" --preset "$preset" --stage all ${iters:+--iters "$iters"} --seed "$seed" --preview "$work/preview" --preview-every 500
train_s=$((SECONDS - t0))

echo "make-builtin-avatar: 3/4 packing (float16) -> $out"
mkdir -p "$(dirname "$out")"
npx tsx scripts/pack-builtin-avatar.ts "$work/trained.r2t" "$out" \
  "synth_size=$size" "synth_frames=$frames" "synth_zoom=$zoom" "synth_seed=$seed" "train_preset=$preset" "train_iters=${iters:-preset}" "train_seed=$seed"

echo "make-builtin-avatar: 4/4 held-out evaluation of the shipped file (validation split, full frame, CPU reference)"
r2t eval --avatar "$out" --data "$work/subject" --split val --out "$work/eval-frames"
echo "make-builtin-avatar: done in $((SECONDS - start)) s (synthesis ${synth_s} s, training ${train_s} s); $(stat -c %s "$out") bytes in $out"
