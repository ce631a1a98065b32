#!/usr/bin/env bash
# Power-cut benchmark (not part of the normal test run): the real skrybad, SIGKILLed at a random
# moment N times over one data directory, `skryba fsck` after each cut, then every check of
# KillTests (durable audio kept, older recordings byte-identical, audit chain intact) — and how much
# audio each cut recording lost. Figures: docs/storage.md, "Power cuts".
#
#   tools/power-cut.sh [CUTS] [SPEED]     defaults: 100 cuts in real time (speed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
cuts="${1:-100}"
speed="${2:-1}"
export PATH=/opt/swift/usr/bin:$PATH
swift build --build-tests >/dev/null
log="$(mktemp /tmp/skryba-power-cut.XXXXXX)"
echo "power-cut: $cuts cuts at ${speed}x real time (log: $log)"
start=$(date +%s)
if SKRYBA_POWER_CUTS="$cuts" SKRYBA_POWER_CUT_SPEED="$speed" swift test --skip-build --filter KillTests >"$log" 2>&1; then
    result=passed
else
    result=FAILED
fi
grep -E '^power-cut:' "$log" || true
grep -E 'recorded an issue' "$log" | head -20 || true
echo "$result in $(( $(date +%s) - start )) s"
[ "$result" = passed ]
