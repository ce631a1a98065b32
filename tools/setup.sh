#!/usr/bin/env bash
# Installs what Skryba needs to build and test on Debian 12, only when it is missing.
# Sourced by tools/demo and tools/test; safe to run on its own and to run twice.
set -euo pipefail

# C libraries (-dev), the tools the tests compare against (opusinfo/opusdec, sox, espeak-ng, age),
# faketime for the clock-fault tests, poppler-utils (pdftotext, pdfinfo) and DejaVu fonts for the case-file documents.
SKRYBA_PACKAGES=(
  pkg-config
  libasound2-dev libgpiod-dev libopus-dev libsqlite3-dev
  opus-tools sox libsox-fmt-all espeak-ng age openssl tzdata faketime poppler-utils fonts-dejavu-core openssh-server openssh-client
)

skryba_missing_packages() {
  local missing=()
  for package in "${SKRYBA_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  echo "${missing[@]:-}"
}

skryba_setup() {
  local missing
  missing=$(skryba_missing_packages)
  if [ -n "$missing" ]; then
    echo "skryba setup: installing $missing" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
      export PATH="/opt/swift/usr/bin:$PATH"
    else
      echo "skryba setup: no Swift toolchain found (need Swift 6.1 or later on PATH, e.g. /opt/swift/usr/bin)" >&2
      return 1
    fi
  fi
}

# The bench's input (docs/performance.md): one Polish sentence from espeak-ng at 8 kHz, made once
# into DIR (default out/demo); prints its path.
skryba_bench_speech() {
  local dir=${1:-out/demo}
  if [ ! -f "$dir/bench-speech.wav" ]; then
    mkdir -p "$dir"
    espeak-ng -v pl -w "$dir/bench-speech.native.wav" "Dzień dobry, dzwonię w sprawie dowodu osobistego."
    sox -q "$dir/bench-speech.native.wav" -r 8000 -c 1 -b 16 "$dir/bench-speech.wav"
  fi
  echo "$dir/bench-speech.wav"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then skryba_setup; fi
