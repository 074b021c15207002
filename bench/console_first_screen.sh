#!/usr/bin/env bash
# The web console's first screen on a large fleet (issue 20's "under 1 s on loopback"): a server
# holding N simulated nodes (bosun-fleet-sim, real activations and agent channels), then Debian's
# chromium (playwright-core) signs in and times, from navigation to drawn, the Fleet view's first
# page and the Overview. Prints one JSON line per view: {"view", "nodes", "runs_ms": [...]}.
# Usage: bench/console_first_screen.sh [NODES]   (default 10000; needs playwright-core in
#   $BOSUN_CONSOLE_NODE_MODULES, as .ci/run installs it, the AWS CLI and chromium)
# BOSUN_BENCH_PROFILE=debug uses the debug binaries (slower; an upper bound).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes="${1:-10000}"
profile="${BOSUN_BENCH_PROFILE:-release}"
if [ "$profile" = release ]; then
  cargo build --release -p bosun-cli -p bosun-bench --bin bosun-fleet-sim >&2
else
  cargo build -p bosun-cli -p bosun-bench --bin bosun-fleet-sim >&2
fi
bins="$(cd "${CARGO_TARGET_DIR:-target}/$profile" && pwd)"
repo="$PWD"
work="$(mktemp -d)"
cleanup() {
  [ -n "${sim:-}" ] && kill "$sim" 2>/dev/null
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null
  wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
"$bins/bosun" server --data-dir "$work/data" --listen 127.0.0.1:0 > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 300); do [ -s "$work/data/listen-addr" ] && break; python3 -c 'import time; time.sleep(0.1)'; done
url="http://$(cat "$work/data/listen-addr")"
export AWS_SHARED_CREDENTIALS_FILE="$work/data/credentials" AWS_CONFIG_FILE="$work/data/config"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE
ids=(); codes=()
for _ in $(seq $(( (nodes + 999) / 1000 ))); do
  read -r id code < <(aws ssm create-activation --iam-role bench --registration-limit 1000 \
    --endpoint-url "$url" --region us-east-1 --output text --query '[ActivationId, ActivationCode]')
  ids+=(--activation-id "$id"); codes+=(--activation-code "$code")
done
"$bins/bosun-fleet-sim" --server "$url" --count "$nodes" "${ids[@]}" "${codes[@]}" > "$work/sim.log" 2>&1 &
sim=$!
count=0
for _ in $(seq 1200); do
  count="$("$bins/bosun" nodes --data-dir "$work/data" --endpoint-url "$url" 2>/dev/null | grep -c Online || true)"
  [ "$count" -ge "$nodes" ] && break
  python3 -c 'import time; time.sleep(1)'
done
echo "nodes online: $count" >&2
read -r akid secret < <(python3 -c 'import configparser,sys; c=configparser.ConfigParser(); c.read(sys.argv[1]); d=c["default"]; print(d["aws_access_key_id"], d["aws_secret_access_key"])' "$work/data/credentials")
NODE_PATH="${BOSUN_CONSOLE_NODE_MODULES:-$repo/target/e2e-npm/node_modules}" \
  node "$repo/bench/peers/console_first_screen.js" "$url/console/" "$akid" "$secret" "$count"
