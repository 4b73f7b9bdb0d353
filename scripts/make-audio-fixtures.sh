#!/usr/bin/env bash
# Synthesises the callee speech the fake Twilio plays over Media Streams (test/fixtures/audio/*.ulaw):
# espeak-ng speaks each phrase to a WAV, sox turns it into headerless G.711 μ-law, 8 kHz, mono — the
# payload format of Twilio Media Streams (docs: shared protocols §4). The outputs are committed, so tests
# never need espeak-ng; run this only to change or add a phrase. Installs espeak-ng and sox with apt-get
# when they are missing (through sudo unless already root).
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/audio"

need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# name|phrase
phrases=(
  "greeting|Good evening, Bella Cucina, Anna speaking."
  "menu|For bookings, press 2."
)

for entry in "${phrases[@]}"; do
  name="${entry%%|*}"
  text="${entry#*|}"
  espeak-ng -v en -s 160 -w "$tmp/$name.wav" "$text"
  sox "$tmp/$name.wav" -t raw -r 8000 -c 1 -e mu-law "$out/$name.ulaw"
  echo "$out/$name.ulaw: $(wc -c <"$out/$name.ulaw") bytes ($text)"
done
