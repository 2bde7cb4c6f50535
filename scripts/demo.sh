#!/usr/bin/env bash
# The README's main job on a fresh machine: set up, render the built-in avatar speaking the
# bundled sentence into out/demo/talk.webm (video + audio; WebGPU where there is an adapter,
# SwiftShader's or a real GPU's, else the CPU reference), then build the extension ready to load
# unpacked. Arguments: [out dir] [extra `r2talker demo` options, e.g. --size 128x128].
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh
out="${1:-out/demo}"
node bin/r2talker.js demo --out "$out" "${@:2}"
echo "demo: building the extension..."
npm run --silent build -- --stats errors-warnings
echo "demo: extension ready to load unpacked from $(pwd)/dist/extension (chrome://extensions > Developer mode > Load unpacked); store zip: dist/r2talker-extension.zip"
echo "demo: done in $((SECONDS - start)) s"
