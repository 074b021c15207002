#!/usr/bin/env bash
# Build release binaries and run every benchmark on loopback; write bench/results/<date>.json
# and a Markdown table next to it. `--quick` uses smaller counts and shorter windows. The
# associations benchmark (10,000 on one cron slot) waits for a wall-clock minute: about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
[ "${1:-}" = "--quick" ] && quick=(--quick)
cargo build --release --workspace --bins
bins="${CARGO_TARGET_DIR:-target}/release"
stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
out="bench/results/${stamp}.json"
"$bins/bosun-bench" --bin-dir "$bins" "${quick[@]}" > "$out"
python3 bench/table.py "$out" > "bench/results/${stamp}.md"
cat "bench/results/${stamp}.md"
echo "figures: $out"
