#!/usr/bin/env bash
# Stored bytes of a sealed Skryba recording against the same audio written by stock opusenc at the
# same bitrate (issue 3's storage target: sealed ≤ 1.05 × opusenc). Usage:
#   tools/storage-vs-opusenc.sh INPUT.wav SECONDS [BITRATE]
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:?mono 8 kHz WAV}; seconds=${2:?seconds}; bitrate=${3:-14000}
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The same looped audio for both.
reps=$(python3 -c "import math,sys; print(max(0, math.ceil($seconds / float(sys.argv[1])) - 1))" "$(soxi -D "$input")")
sox -q "$input" "$work/looped.wav" repeat "$reps" trim 0 "$seconds"
"$bin/skryba" bench --input "$work/looped.wav" --lines 1 --seconds "$seconds" --bitrate "$bitrate" --out "$work" --no-baseline > "$work/bench.json"
# opusenc resamples to 48 kHz; capping it to narrowband makes it code what Skryba codes (SILK NB).
opusenc --quiet --bitrate "$(python3 -c "print($bitrate/1000)")" --framesize 20 --speech --set-ctl-int 4004=1101 \
  "$work/looped.wav" "$work/opusenc.opus"
sealed=$(stat -c %s "$work/bench-line-01.skryba")
opusenc=$(stat -c %s "$work/opusenc.opus")
python3 - "$sealed" "$opusenc" "$seconds" "$bitrate" <<'PY'
import sys
sealed, opusenc, seconds, bitrate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"{seconds:.0f} s at {bitrate} bit/s: sealed Skryba recording {sealed} bytes, opusenc {opusenc} bytes, ratio {sealed/opusenc:.3f}")
PY
