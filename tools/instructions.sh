#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind), repeatable on a noisy shared machine where CPU
# seconds are not: the whole daemon on a simulated 8-line office against bare libopus encoding the
# call audio that office keeps, and the daemon's cost per idle line-second. docs/performance.md
# ("Instructions") has the figures. Usage: tools/instructions.sh [OUT]   (default out/instructions)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/instructions}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
# A scratch path of its own: a release build never waits for (or clobbers) the debug one.
swift build -c release --scratch-path .build-release >/dev/null
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)
rm -rf "$out"
mkdir -p "$out/bin"
# valgrind cannot read the toolchain's debug info: run copies without it (symbols stay, for --toggle-collect).
for tool in skryba skrybad; do cp "$bin/$tool" "$out/bin/$tool"; strip --strip-debug "$out/bin/$tool"; done
recipient=$(age-keygen 2>/dev/null | sed -n 's/^# public key: //p')

# An 8-line office over two minutes, nine calls: caller ID between rings and before the first ring
# (DTMF and FSK), an outgoing call, a caller who hangs up during the announcement, one who objects.
cat > "$out/office8.toml" <<'TOML'
rate = 8000
announcement = "Dzień dobry, tu Urząd Gminy. Informujemy, że rozmowy są nagrywane."
[[lines]]
id = 1
name = "Sekretariat"
[[lines]]
id = 2
name = "Pomoc społeczna"
record = ["incoming"]
consent = "opt-out-key"
opt_out_key = "9"
[[lines]]
id = 3
name = "Ewidencja ludności"
outgoing_beep = true
[[lines]]
id = 4
name = "Podatki"
[[lines]]
id = 5
name = "Geodezja"
[[lines]]
id = 6
name = "Oświata"
[[lines]]
id = 7
name = "Kasa"
[[lines]]
id = 8
name = "Wójt"
[[calls]]
line = 1
direction = "incoming"
at = 2
caller_id = "221234567"
talk = ["Dzień dobry, dzwonię w sprawie wymiany dowodu osobistego. Jakie dokumenty są potrzebne?"]
hang_up_after = 20
[[calls]]
line = 3
direction = "outgoing"
at = 10
dial = "600700800"
talk = ["Dzień dobry, tu urząd gminy, oddzwaniam w sprawie pańskiego wniosku."]
hang_up_after = 15
[[calls]]
line = 4
direction = "incoming"
at = 20
rings = 1
caller_id = "587654321"
caller_id_format = "dtmf"
caller_id_before_ring = true
hang_up_after = 3
[[calls]]
line = 2
direction = "incoming"
at = 30
caller_id = "123456789"
caller_id_format = "fsk-sdmf"
talk = ["Nie zgadzam się na nagrywanie tej rozmowy."]
presses = [{ key = "9", after = 5.0 }]
hang_up_after = 12
[[calls]]
line = 5
direction = "incoming"
at = 40
rings = 1
caller_id = "226001122"
caller_id_format = "dtmf"
caller_id_before_ring = true
talk = ["Chciałbym zapytać o termin płatności podatku od nieruchomości."]
hang_up_after = 18
[[calls]]
line = 6
direction = "incoming"
at = 55
caller_id = "226003344"
caller_id_format = "fsk-mdmf"
caller_id_before_ring = true
talk = ["Dzień dobry, w jakich godzinach przyjmuje sekretariat szkoły?"]
hang_up_after = 16
[[calls]]
line = 7
direction = "incoming"
at = 70
rings = 3
caller_id = "226005566"
talk = ["Dzień dobry, chciałbym zapłacić za wywóz odpadów."]
hang_up_after = 14
[[calls]]
line = 8
direction = "outgoing"
at = 80
dial = "221112233"
talk = ["Dzień dobry, tu urząd gminy."]
hang_up_after = 20
[[calls]]
line = 1
direction = "incoming"
at = 95
rings = 1
caller_id = "221234567"
caller_id_format = "dtmf"
talk = ["Jeszcze jedno pytanie w sprawie dowodu."]
hang_up_after = 15
TOML
{ echo "rate = 8000"; echo "tail_seconds = 60"; echo 'announcement = "Rozmowy są nagrywane."'
  for line in 1 2 3 4 5 6 7 8; do printf '[[lines]]\nid = %d\nname = "Linia %d"\n' "$line" "$line"; done; } > "$out/idle60.toml"
sed 's/^tail_seconds = 60/tail_seconds = 120/' "$out/idle60.toml" > "$out/idle120.toml"

# Renders a scenario (skryba simulate, which also runs skrybad once), then runs skrybad on the same
# capture under callgrind into a fresh data directory; prints the instructions.
count_daemon() {
  local name=$1 sim="$out/$1"
  "$out/bin/skryba" simulate "$out/$name.toml" --out "$sim" --recipient "$recipient" >/dev/null
  sed "s|^data_dir = .*|data_dir = \"$PWD/$sim/data-callgrind\"|" "$sim/skryba.toml" > "$sim/skryba-callgrind.toml"
  local frames=$(( $(stat -c %s "$sim/capture.raw") / 2 / 8 ))
  ALSA_CONFIG_PATH="$sim/asound.conf" valgrind --tool=callgrind --callgrind-out-file="$sim/callgrind.out" \
    "$out/bin/skrybad" --config "$sim/skryba-callgrind.toml" --stop-at-frame "$frames" --pacing simulation --assume-clock-synchronised \
    > "$sim/report.json" 2> "$sim/callgrind.log"
  sed -n 's/^summary: //p' "$sim/callgrind.out"
}

daemon=$(count_daemon office8)
# The audio the office keeps: every complete recording's frames, cut from the capture, one after another.
kept_frames=$(python3 - "$out/office8" <<'PY'
import json, sys, wave
sim = sys.argv[1]
report = json.load(open(f"{sim}/report.json"))
raw = open(f"{sim}/capture.raw", "rb").read()
channels, kept = 8, bytearray()
for call in report["calls"]:
    if call["outcome"] != "complete":
        continue
    for frame in range(call["startFrame"], call["endFrame"]):
        at = (frame * channels + call["line"] - 1) * 2
        kept += raw[at:at + 2]
with wave.open(f"{sim}/kept.wav", "wb") as out:
    out.setnchannels(1); out.setsampwidth(2); out.setframerate(8000); out.writeframes(bytes(kept))
print(len(kept) // 2)
PY
)
kept_seconds=$(python3 -c "print($kept_frames / 8000)")
# Bare libopus as skryba bench runs it (Bench.bareLibopus: the same settings, 20 ms frames, packets
# dropped). Its loop is inlined in a release build, so callgrind counts inside libopus's opus_encode
# only, once with the baseline and once without: the difference is bare libopus on the kept audio.
libopus_calls() {
  valgrind --tool=callgrind --toggle-collect=opus_encode --callgrind-out-file="$out/libopus-$1.out" \
    "$out/bin/skryba" bench --input "$out/office8/kept.wav" --lines 1 --seconds "$kept_seconds" --no-seal --no-fsync $2 \
    > "$out/libopus-$1.json" 2> "$out/libopus-$1.log"
  sed -n 's/^summary: //p' "$out/libopus-$1.out"
}
libopus=$(( $(libopus_calls with "") - $(libopus_calls without --no-baseline) ))

idle60=$(count_daemon idle60)
idle120=$(count_daemon idle120)
python3 - "$daemon" "$libopus" "$kept_seconds" "$idle60" "$idle120" <<'PY'
import sys
daemon, libopus, kept, idle60, idle120 = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"office (8 lines, 9 calls): daemon {daemon:,} instructions")
print(f"bare libopus on the {kept:.2f} s of kept call audio: {libopus:,} instructions")
print(f"ratio daemon / bare libopus: {daemon / libopus:.3f}")
per = (idle120 - idle60) / (8 * 60)
print(f"idle office, 8 lines: {idle60:,} (60 s) and {idle120:,} (120 s) instructions")
print(f"per idle line-second: {per:,.0f} instructions ({per * 3600 / 1e6:,.1f} M per idle line-hour)")
PY
