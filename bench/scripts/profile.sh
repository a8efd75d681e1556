#!/usr/bin/env bash
# Profiles Caravan under the fan-out load (50 rooms x 4 clients, 10,000 updates/s): a release
# build with line tables, `perf record` on the server, and a flamegraph (inferno) plus the
# share of CPU by part of the server. Output in bench/results/profile/.
# Needs perf (Debian: linux-perf); installs inferno with cargo on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/results/profile
RATE=${RATE:-10000}
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "perf is missing: apt-get install linux-perf" >&2; exit 1; }
test -x bench/peers/tools/bin/inferno-flamegraph ||
  cargo install inferno --version 0.12.3 --locked --root bench/peers/tools
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --release -p sync_server --bin caravan --target-dir target/profiling
cargo build --release -p bench --bin caravan-bench
CARAVAN_BIN=target/profiling/release/caravan ./target/release/caravan-bench compare \
  --servers caravan --rooms 50 --clients 4 --rate "$RATE" --secs 12 --out "$OUT" &
BENCH=$!
sleep 4
PID=$(pgrep -f "target/profiling/release/caravan serve" | head -1)
perf record -F 499 --call-graph dwarf,16384 -p "$PID" -o "$OUT/perf.data" -- sleep 5
wait "$BENCH"
perf script -i "$OUT/perf.data" 2>/dev/null |
  bench/peers/tools/bin/inferno-collapse-perf > "$OUT/stacks.folded"
bench/peers/tools/bin/inferno-flamegraph --minwidth 1.5 --title "caravan, fan-out at $RATE updates/s" \
  < "$OUT/stacks.folded" > "$OUT/flamegraph.svg"
# Share of samples whose stack passes through each part (a sample can count in two parts).
total=$(awk '{s+=$NF} END {print s}' "$OUT/stacks.folded")
{
  echo "| part of the server | share of server CPU |"
  echo "| --- | --- |"
  while IFS='|' read -r name pattern; do
    share=$({ grep -E "$pattern" "$OUT/stacks.folded" || true; } | awk -v t="$total" '{s+=$NF} END {printf "%.1f%%", 100*s/t}')
    echo "| $name | $share |"
  done <<'PARTS'
sending frames (ws::writer, incl. the kernel's TCP send)|ws::writer::write
  of which the kernel's send system call|ws::writer::write.*sys_sendto
receiving frames (read, decode)|poll_next|recvfrom
applying and relaying an update (Room::receive)|Room::receive
  of which appending to the sled log|DocStore>::append
  of which yrs applying the update|apply_update
compaction|compaction::compact
sled's flushes (group commit and sled's own flusher thread)|SledStore.*flush|log_flusher
tokio's scheduler, parked and waking|park|unpark|wake_by
PARTS
} > "$OUT/breakdown.md"
cat "$OUT/breakdown.md"
echo "flamegraph: $OUT/flamegraph.svg"
