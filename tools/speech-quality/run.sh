#!/usr/bin/env bash
# Speech-quality measurement for Skryba's Opus defaults (see docs/speech-quality.md).
# Idempotent: installs only what is missing, then runs measure.py with the given arguments.
#   SKRYBA=/path/to/skryba tools/speech-quality/run.sh      # measure `skryba encode`
#   tools/speech-quality/run.sh --encoder opusenc           # fallback encoder (opus-tools)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sox       >/dev/null 2>&1 || missing+=(sox)
{ command -v opusenc >/dev/null 2>&1 && command -v opusdec >/dev/null 2>&1; } || missing+=(opus-tools)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

pymissing=()
for mod in pesq matplotlib numpy; do
  "$PY" -c "import $mod" >/dev/null 2>&1 || pymissing+=("$mod")
done
if ((${#pymissing[@]})); then
  echo "pip installing: ${pymissing[*]}" >&2
  # pesq may build a C extension against numpy: install numpy first
  "$PY" -c "import numpy" >/dev/null 2>&1 || "$PY" -m pip install -q numpy
  "$PY" -m pip install -q "${pymissing[@]}"
fi

exec "$PY" "$here/measure.py" "$@"
