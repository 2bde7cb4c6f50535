#!/usr/bin/env bash
# Regenerates the trained bench avatar, assets/bench/official-t13.r2t: the avatar fast mode's
# multiply-adds and PSNR are measured on (bench/fast.ts, bench/fast-gpu.ts,
# tests/unit/fast-bench-avatar.test.ts). The official networks (widths, levels, features and
# resolutions: the official multiply-adds per sample) with 2^13-row hash tables, trained by our
# own trainer (CPU) for a short schedule on the built-in avatar's procedural person
# (synth-subject seed 8: nobody's face). Same steps as scripts/make-builtin-avatar.sh:
#   1. `r2talker synth-subject`; 2. `r2talker train --preset official-t13 --stage all`;
#   3. scripts/pack-builtin-avatar.ts (float16); 4. `r2talker eval` (held-out split).
# Every random draw is seeded: the same machine and software give the same file.
# Arguments: [work dir, default .cache/bench-avatar] [out file, default assets/bench/official-t13.r2t]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-.cache/bench-avatar}"
out="${2:-assets/bench/official-t13.r2t}"
size=192
frames=300
zoom=1.5
seed=8
preset=official-t13
r2t() { node bin/r2talker.js "$@"; }

mkdir -p "$work"
start=$SECONDS
echo "make-bench-avatar: 1/4 synthetic subject ${size}px, ${frames} frames, zoom ${zoom}, seed ${seed} -> $work/subject"
r2t synth-subject --out "$work/subject" --size "$size" --frames "$frames" --zoom "$zoom" --seed "$seed" --overwrite
synth_s=$((SECONDS - start))

echo "make-bench-avatar: 2/4 training (preset ${preset}: its own schedule, head+lips+torso, seed ${seed})"
t0=$SECONDS
rm -f "$work/trained.r2t" "$work/trained.r2t.ckpt"
r2t train --data "$work/subject" --out "$work/trained.r2t" --preset "$preset" --stage all --seed "$seed" --eval-frames 4 --checkpoint-every 100
train_s=$((SECONDS - t0))

echo "make-bench-avatar: 3/4 packing (float16) -> $out"
mkdir -p "$(dirname "$out")"
PACK_NAME='R2 Talker bench avatar (official networks, 2^13 tables, trained; synthetic person)' \
PACK_REGENERATE='bash scripts/make-bench-avatar.sh' PACK_MAX_BYTES=10000000 \
  npx tsx scripts/pack-builtin-avatar.ts "$work/trained.r2t" "$out" \
  "synth_size=$size" "synth_frames=$frames" "synth_zoom=$zoom" "synth_seed=$seed" "train_preset=$preset" "train_iters=preset" "train_seed=$seed"

echo "make-bench-avatar: 4/4 held-out evaluation of the shipped file (validation split, full frame, CPU reference)"
r2t eval --avatar "$out" --data "$work/subject" --split val --out "$work/eval-frames"
echo "make-bench-avatar: done in $((SECONDS - start)) s (synthesis ${synth_s} s, training ${train_s} s); $(stat -c %s "$out") bytes in $out"
