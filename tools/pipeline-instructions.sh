#!/usr/bin/env bash
# Instruction counts (callgrind) of `skryba bench`'s pipeline against its bare-libopus baseline on
# the same audio in the same process: pipeline ÷ bare libopus per audio second, repeatable where CPU
# seconds are not. docs/performance.md ("Pipeline against bare libopus, instructions") has the figures.
# Usage: tools/pipeline-instructions.sh [LINES] [SECONDS] [OUT]   (defaults 8, 30, out/pipeline-instructions)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-8}; seconds=${2:-30}; out=${3:-out/pipeline-instructions}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
source tools/setup.sh
input=$(skryba_bench_speech out/demo)
# A scratch path of its own: a release build never waits for (or clobbers) the debug one.
swift build -c release --scratch-path .build-release >/dev/null
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)
rm -rf "$out"; mkdir -p "$out"
# valgrind cannot read the toolchain's debug info: a copy without it (symbols stay, for the per-function counts).
cp "$bin/skryba" "$out/skryba"; strip --strip-debug "$out/skryba"
# One file per thread: thread 1 is main (start-up, the capture file, the recorder's own part, the
# baseline); every other thread is the pipeline's (capture, line workers).
for run in pipeline:--no-baseline both:; do
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/${run%%:*}.out" \
    "$out/skryba" bench --input "$input" --lines "$lines" --seconds "$seconds" ${run#*:} \
    > "$out/${run%%:*}.json" 2> "$out/${run%%:*}.log" &
done
wait
python3 - "$out" "$lines" "$seconds" <<'PY'
import glob, re, subprocess, sys
out, lines, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def total(path): return int(re.search(r"^summary: (\d+)", open(path).read(), re.M).group(1))
def inclusive(path, function):   # callgrind_annotate's inclusive count of the one function whose name contains this
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path], capture_output=True, text=True).stdout
    return max(int(m.group(1).replace(",", "")) for m in re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S*" + function, text, re.M))
workers = sum(total(f) for f in glob.glob(f"{out}/pipeline.out-*") if not f.endswith("-01"))
# The measured region on the main thread: Bench.run's measure closure (recorder set-up and run, the store).
recorder = inclusive(f"{out}/pipeline.out-01", r"\$s14SkrybaPipeline5BenchO3run.*7measureL_")
pipeline = workers + recorder
baseline = total(f"{out}/both.out-01") - total(f"{out}/pipeline.out-01")
encode = inclusive(f"{out}/both.out-01", "opus_encode ")
audio = lines * seconds
print(f"{lines} lines x {seconds:g} s = {audio:g} audio seconds")
print(f"pipeline: {pipeline:,} instructions ({pipeline / audio:,.0f} per audio second); other threads {workers:,}, recorder on main {recorder:,}")
print(f"bare libopus: {baseline:,} instructions ({baseline / audio:,.0f} per audio second); of which opus_encode {encode:,}")
print(f"pipeline / bare libopus: {pipeline / baseline:.4f}")
whole = total(f"{out}/pipeline.out-01") + workers
print(f"whole process without baseline / bare libopus (start-up and the capture file included): {whole / baseline:.4f}")
PY
