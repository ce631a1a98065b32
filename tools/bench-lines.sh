#!/usr/bin/env bash
# Lines held in real time: `skryba bench --pace realtime --no-baseline` at 32 and 64 lines (the
# product's limit, LineLayout.maximumChannels), and 128 lines as two 64-line processes at once
# (the only way past that limit without changing the product: the same CPU and memory load, split
# over two captures). Prints overflowed periods, xruns, CPU, and peak RSS from /usr/bin/time -v.
# docs/performance.md ("Lines in real time") has the figures.
# Usage: tools/bench-lines.sh [SECONDS] [OUT]   (defaults 30, out/bench-lines)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
out=${2:-out/bench-lines}
[ -x /usr/bin/time ] || { echo "/usr/bin/time is not installed (apt-get install time)" >&2; exit 1; }
source tools/setup.sh
input=$(skryba_bench_speech out/demo)
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
rm -rf "$out"; mkdir -p "$out"

run() {   # NAME LINES: one real-time bench in the background, JSON and time -v output kept
  /usr/bin/time -v -o "$out/$1.time" "$bin/skryba" bench --input "$input" --lines "$2" --seconds "$seconds" \
    --pace realtime --no-baseline > "$out/$1.json" &
}
report() {   # NAME...: one summary line over these processes
  python3 - "$out" "$@" <<'PY'
import json, re, sys
out, names = sys.argv[1], sys.argv[2:]
lines = overflow = xruns = rss = 0; cpu = wall = 0.0; frames = set()
for name in names:
    r = json.load(open(f"{out}/{name}.json"))
    lines += r["lines"]; overflow += r["ring_overflow_periods"]; xruns += r["xruns"]
    cpu += r["pipeline"]["cpu_seconds"]; wall = max(wall, r["pipeline"]["wall_seconds"]); frames.add(r["frames_per_line"])
    rss += int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"{out}/{name}.time").read()).group(1))
    assert not r["line_failures"], r["line_failures"]
print(f"{lines:4d} lines ({len(names)} process{'es' if len(names) > 1 else ''}): wall {wall:.2f} s, "
      f"overflowed periods {overflow}, xruns {xruns}, frames per line {sorted(frames)}, "
      f"CPU {cpu:.2f} s ({cpu / wall:.2f} cores), peak RSS {rss / 1024:.1f} MiB")
PY
}
run lines32 32; wait; report lines32
run lines64 64; wait; report lines64
run lines128a 64; run lines128b 64; wait; report lines128a lines128b
