#!/usr/bin/env bash
# Which of prepare's estimates costs the training proof's gap (scripts/prepare-training-proof.sh):
# a copy of the ground-truth subject with the listed components taken from the prepared subject,
# trained and scored like the proof's two subjects (same recipe and seed, truth's held-out images).
# Components: camera (focal, cx, cy, transform_matrix), cond (aud_idexp*.npy, eye_ratio),
# masks (parsing/), images (bc.jpg, torso_imgs/, train gt_imgs/; or one of them: bc, torso, gt),
# lms (ori_imgs/*.lms).
# Usage: PROOF_SEED=1 bash scripts/prepare-proof-ablate.sh <proof work dir> camera[,cond,...]
set -euo pipefail
cd "$(dirname "$0")/.."
work="$1"
parts="$2"
seed="${PROOF_SEED:-1}"
iters="${PROOF_ITERS:-}"
r2t() { node bin/r2talker.js "$@"; }
out="$work/truth+${parts//,/+}"
rm -rf "$out"
cp -r "$work/truth" "$out"
node -e '
const fs = require("fs");
const [work, out, parts] = [process.argv[1], process.argv[2], process.argv[3].split(",")];
const known = ["camera", "cond", "masks", "images", "bc", "torso", "gt", "lms"];
for (const p of parts) if (!known.includes(p)) { console.error(`unknown component ${p} (known: ${known.join(", ")})`); process.exit(2); }
const read = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
const copy = (rel) => fs.copyFileSync(`${work}/prepared/${rel}`, `${out}/${rel}`);
const val = new Set(read(`${work}/truth/transforms_val.json`).frames.map((f) => f.img_id));
for (const split of ["train", "val"]) {
  const t = read(`${out}/transforms_${split}.json`);
  const p = read(`${work}/prepared/transforms_${split}.json`);
  if (parts.includes("camera")) {
    for (const k of ["focal_len", "cx", "cy"]) t[k] = p[k];
    t.frames.forEach((f, i) => (f.transform_matrix = p.frames[i].transform_matrix));
  }
  if (parts.includes("cond")) t.frames.forEach((f, i) => (f.eye_ratio = p.frames[i].eye_ratio));
  fs.writeFileSync(`${out}/transforms_${split}.json`, JSON.stringify(t, null, 1));
}
if (parts.includes("cond")) for (const f of fs.readdirSync(`${work}/prepared`)) if (/^aud_idexp.*\.npy$/.test(f)) copy(f);
const dirFiles = (d, re) => fs.readdirSync(`${work}/prepared/${d}`).filter((f) => re.test(f));
if (parts.includes("masks")) for (const f of dirFiles("parsing", /./)) copy(`parsing/${f}`);
if (parts.includes("lms")) for (const f of dirFiles("ori_imgs", /\.lms$/)) copy(`ori_imgs/${f}`);
const images = parts.includes("images");
if (images || parts.includes("bc")) copy("bc.jpg");
if (images || parts.includes("torso")) for (const f of dirFiles("torso_imgs", /./)) copy(`torso_imgs/${f}`);
if (images || parts.includes("gt")) for (const f of dirFiles("gt_imgs", /./)) if (!val.has(Number(f.split(".")[0]))) copy(`gt_imgs/${f}`);
' "$work" "$out" "$parts"
rm -f "$out.r2t" "$out.r2t.ckpt"
r2t train --data "$out" --out "$out.r2t" --preset tiny --stage all ${iters:+--iters "$iters"} --seed "$seed" --checkpoint-every 0
r2t eval --avatar "$out.r2t" --data "$out" --split val --json > "$out.eval.json"
node -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`prepare-proof-ablate: truth with prepared ${process.argv[2]}: PSNR ${e.psnr.toFixed(2)} dB, SSIM ${e.ssim.toFixed(4)}, mouth PSNR ${e.mouthPsnr.toFixed(2)} dB`)' "$out.eval.json" "$parts"
