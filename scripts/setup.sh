#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine; idempotent and quick
# when already done. Debian packages: Chromium (browser tests, SwiftShader WebGPU for Node),
# python3-torch (writes real PyTorch checkpoints for importer tests), espeak-ng + sox (speech
# fixtures and the generator corpus; used as external tools only, never bundled).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || need_apt+=(python3-torch python3-numpy)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v sox >/dev/null || need_apt+=(sox)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# npm ci only when the lock changed since the last install.
stamp=node_modules/.r2talker-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

# The LiveKit SFU the conferencing tests run (v1.13.5 built from the Go module proxy on the
# first run, a few minutes; cached under ~/.cache/r2talker afterwards).
bash scripts/livekit-server.sh >/dev/null
