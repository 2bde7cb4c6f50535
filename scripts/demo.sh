#!/usr/bin/env bash
# The README's main job: set up, then render the built-in demo avatar talking.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/r2talker.js demo --out "${1:-out/demo}" "${@:2}"
