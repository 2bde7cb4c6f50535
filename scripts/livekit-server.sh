#!/usr/bin/env bash
# Builds the LiveKit SFU that the conferencing tests call into, once, into a cache that
# survives across runs. v1.13.5 is pinned on purpose: later releases replace pion with
# livekit forks that the Go module proxy does not serve, so they cannot be built here.
# Usage: scripts/livekit-server.sh            -> builds if needed, prints the binary path
#        R2T_LIVEKIT_CACHE=/dir scripts/...    -> build into another cache dir
set -euo pipefail

version=v1.13.5
cache="${R2T_LIVEKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/r2talker/livekit-server-$version}"
bin="$cache/livekit-server"

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "${version#v}"; then
  echo "$bin"
  exit 0
fi

if ! command -v go >/dev/null; then
  # Debian's golang is older than the module needs on some releases; /usr/local/go is the
  # usual place of a newer toolchain, so look there before asking apt.
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "livekit-server: installing Go from Debian" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq golang-go >/dev/null
  fi
fi

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "livekit-server: building $version with $(go version) (a few minutes on 2 cores)" >&2
# GOBIN into a temporary dir, then a rename: a build cut short never leaves a half binary
# where the next run would take it for a good one. GOTOOLCHAIN=auto lets go fetch the
# toolchain module the server's go.mod asks for from the same proxy if the local one is old.
GOBIN="$tmp" GOFLAGS="-trimpath" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
  nice -n 10 go install "github.com/livekit/livekit-server/cmd/server@$version"
mv "$tmp/server" "$bin"
"$bin" --version >&2
echo "$bin"
