#!/usr/bin/env bash
# Session Manager side by side with OpenSSH on loopback: bulk throughput (`head -c` of zeros
# read through the session) and one-byte echo round trips through a remote `cat`, measured by the
# same script (bench/peers/stream_measure.py) through `bosun session NODE --command` (client →
# server → agent → process) and through ssh to a private sshd (bench/peers/ssh.sh).
# Then port forwarding against direct TCP, a 1,000-connection burst through one port session and
# the server's memory per open session (bench/peers/port_measure.py).
# Usage: bench/sessions.sh [--quick]   (prints JSON lines: bosun, port forwarding, then openssh)
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=$((200 * 1024 * 1024)); echoes=1000
[ "${1:-}" = "--quick" ] && { bytes=$((50 * 1024 * 1024)); echoes=200; }
cargo build --release -p bosun-cli -p bosun-agent >&2
bins="$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)"
work="$(mktemp -d)"
cleanup() { [ -n "${qs:-}" ] && kill "$qs" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
"$bins/bosun" quickstart --listen 127.0.0.1:0 > quickstart.log 2>&1 &
qs=$!
node=""
for _ in $(seq 300); do
  node="$("$bins/bosun" nodes 2>/dev/null | awk '/Online/ {for (i = 1; i <= NF; i++) if ($i ~ /^mi-/) print $i}' | head -1 || true)"
  [ -n "$node" ] && break
  python3 -c 'import time; time.sleep(0.1)'
done
[ -n "$node" ] || { cat quickstart.log >&2; echo "the local agent never came online" >&2; exit 1; }
python3 "$OLDPWD/bench/peers/stream_measure.py" --label bosun-session --bytes "$bytes" \
  --echoes "$echoes" -- "$bins/bosun" session "$node" --command
python3 "$OLDPWD/bench/peers/port_measure.py" --bosun "$bins/bosun" --node "$node" --server-pid "$qs" \
  --bytes "$bytes" --echoes "$echoes"
"$OLDPWD/bench/peers/ssh.sh" "$bytes" "$echoes"
