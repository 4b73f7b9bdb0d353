#!/usr/bin/env bash
# Installs the Debian packages Switchboard's offline speech, recordings and browser tests use, when missing:
#   espeak-ng            offline text-to-speech (simulated network in audio mode, recordings of simulated calls)
#   sox                  audio conversion (WAV ⇄ G.711 μ-law 8 kHz, mixing)
#   pocketsphinx(-en-us) offline speech-to-text (Debian bookworm: 5prealpha, command pocketsphinx_continuous)
#   lame                 mp3 encoding of recordings
#   chromium             headless browser for the dashboard tests (driven by playwright-core)
# Runs apt-get through sudo unless already root. Idempotent and quiet when everything is there, so
# `npm test` (pretest) and .ci/run call it on every run. SKIP_SYSTEM_DEPS=1 skips it (a machine managed by
# other means); the tests that need a missing program then fail and name it.
set -euo pipefail
[ "${SKIP_SYSTEM_DEPS:-}" = "1" ] && exit 0

declare -A pkg_of=(
  [espeak-ng]=espeak-ng
  [sox]=sox
  [pocketsphinx_continuous]=pocketsphinx
  [lame]=lame
  [chromium]=chromium
)
need=()
for cmd in "${!pkg_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("${pkg_of[$cmd]}")
done
# The recogniser's English model is a data package with no command of its own.
[ -d /usr/share/pocketsphinx/model/en-us ] || need+=(pocketsphinx-en-us)
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "switchboard: missing ${need[*]} (install them with your package manager, or set SKIP_SYSTEM_DEPS=1)" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
    echo "switchboard: missing ${need[*]}: run  sudo apt-get install ${need[*]}" >&2
    exit 0
  fi
fi
echo "switchboard: installing ${need[*]} (apt-get)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
