#!/usr/bin/env bash
# Regenerates assets/demo/sentence.wav, the sentence the main job (scripts/demo.sh) makes the
# built-in avatar speak. eSpeak NG (GPL) and SoX run here as external tools that produce data;
# neither is bundled with, nor linked into, anything that ships. Output: 16 kHz mono 16-bit PCM,
# leading and trailing silence trimmed to 0.15 s so every rendered frame shows speech.
set -euo pipefail
cd "$(dirname "$0")/.."
TEXT="Hello! Watch my mouth move as I speak, right on your machine."
out=assets/demo/sentence.wav
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 165 -w "$tmp/raw.wav" "$TEXT"
sox "$tmp/raw.wav" -r 16000 -b 16 -c 1 "$tmp/trim.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0.15 0.15
mv "$tmp/trim.wav" "$out"
echo "wrote $out ($(soxi -D "$out") s): $TEXT"
