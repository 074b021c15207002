#!/usr/bin/env bash
# Salt side by side: a salt-master and N salt-minions on 127.0.0.1, timed on `cmd.run 'echo hi'`.
#
#   bench/peers/salt.sh N            start, time SALT_RUNS (default 3) runs, print one JSON line, stop
#   bench/peers/salt.sh N --serve    start, print {"ready":…} and then answer stdin lines:
#                                    `run` -> one timed cmd.run as a JSON line; EOF -> stop
#
# Salt comes from PyPI into a venv under the cargo target folder (kept across runs). Everything
# listens on loopback on non-default ports with its own config and root dirs; nothing looks
# beyond loopback (no fqdn, GPU or metadata-server grains). The script stops exactly the
# processes it started: the pids it spawned (pid files) and their descendants, on any exit.
# Progress goes to stderr, figures (JSON lines) to stdout.
set -euo pipefail

n=${1:?usage: salt.sh N [--serve]}
mode=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv="$target/salt-venv"
work="$target/salt-work"
# Below the kernel's ephemeral range, so the many client sockets of a benchmark never hold them.
pub_port=${SALT_PUBLISH_PORT:-14505}
ret_port=${SALT_RET_PORT:-14506}
runs=${SALT_RUNS:-3}
spec=${SALT_SPEC:-salt>=3008,<3009}

say() { echo "salt.sh: $*" >&2; }
fail() {
    printf '{"error": "%s"}\n' "$*"
    say "$*"
    exit 1
}

if [ ! -x "$venv/bin/salt" ]; then
    say "installing $spec into $venv"
    python3 -m venv "$venv" >&2 || fail "python3 -m venv failed"
    # The newest 3008 release may need dependency versions the index lacks; pip then falls back
    # to the newest 3008.x it can install.
    "$venv/bin/pip" install --quiet "$spec" >&2 || fail "pip could not install $spec (no network?)"
fi
version=$("$venv/bin/python" -c 'import salt.version; print(salt.version.__version__)') ||
    fail "the Salt in $venv does not import"

# The processes this script started, and everything they spawned.
pids_file="$work/pids"
tree() { # pid… -> those pids and all their descendants
    ps -e -o pid=,ppid= | awk -v roots="$*" '
        BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
        { parent[$1] = $2 }
        END { do { changed = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } } while (changed)
              for (p in keep) if (p in parent) print p }'
}
stop() {
    set +e
    [ -f "$pids_file" ] || return 0
    local all
    all=$(tree $(cat "$pids_file"))
    [ -n "$all" ] && kill -TERM $all 2>/dev/null || true
    for _ in $(seq 100); do
        all=$(for p in $all; do if kill -0 "$p" 2>/dev/null; then echo "$p"; fi; done)
        [ -z "$all" ] && break
        sleep 0.1
    done
    [ -n "$all" ] && kill -KILL $all 2>/dev/null || true
    rm -f "$pids_file"
}
trap stop EXIT
trap 'exit 130' INT TERM

# A previous run of this script that was killed hard left its pid file: stop those of its
# processes that still run Salt from this work dir (a pid alone may have been reused since).
if [ -f "$pids_file" ]; then
    for p in $(tree $(cat "$pids_file")); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$work" && echo "$p"
    done >"$pids_file.stale" || true
    mv "$pids_file.stale" "$pids_file"
    stop
fi
rm -rf "$work"
mkdir -p "$work"
user=$(id -un)

mkdir -p "$work/master"
cat >"$work/master/master" <<EOF
root_dir: $work/master
user: $user
interface: 127.0.0.1
ipv6: False
publish_port: $pub_port
ret_port: $ret_port
auto_accept: True
log_file: $work/master/master.log
log_level_logfile: warning
EOF
"$venv/bin/salt-master" -c "$work/master" -l quiet >/dev/null 2>&1 &
master_pid=$!
echo $master_pid >>"$pids_file"

for i in $(seq 1 "$n"); do
    d="$work/m$i"
    mkdir -p "$d"
    cat >"$d/minion" <<EOF
root_dir: $d
id: m$i
user: $user
master: 127.0.0.1
master_port: $ret_port
publish_port: $pub_port
ipv6: False
enable_fqdns_grains: False
enable_gpu_grains: False
metadata_server_grains: False
acceptance_wait_time: 1
log_file: $d/minion.log
log_level_logfile: warning
EOF
    "$venv/bin/salt-minion" -c "$d" -l quiet >/dev/null 2>&1 &
    echo $! >>"$pids_file"
done

salt_cli() { "$venv/bin/salt" -c "$work/master" --out=json --static "$@" 2>/dev/null; }
count() { # minions whose answer (JSON on stdin) is $1
    python3 -c 'import json, sys; print(sum(1 for v in json.load(sys.stdin).values() if v == json.loads(sys.argv[1])))' "$1" 2>/dev/null || echo 0
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

say "Salt $version: waiting for $n minions to answer test.ping"
started=$(date +%s.%N)
while :; do
    got=$( (salt_cli -t 5 '*' test.ping || true) | count true)
    [ "$got" -ge "$n" ] && break
    if ! kill -0 "$master_pid" 2>/dev/null; then
        fail "salt-master exited: $(grep -h -m1 -iE 'error|critical' "$work/master/master.log" | tr '"\\' "''" | cut -c1-300)"
    fi
    if [ "$(elapsed "$started" "$(date +%s.%N)" | cut -d. -f1)" -ge 600 ]; then
        fail "only $got/$n minions answered test.ping in 600 s"
    fi
    sleep 1
done
ready_seconds=$(elapsed "$started" "$(date +%s.%N)")

# RSS (KB) of one minion's process tree, idle.
first_minion=$(sed -n 2p "$pids_file")
minion_rss_kb=$(ps -o rss= -p "$(tree "$first_minion" | tr '\n' ',' | sed 's/,$//')" | awk '{s += $1} END {print s}')

one_run() { # -> seconds for one `salt '*' cmd.run 'echo hi'`, and how many minions said hi
    local t0 t1 out got
    t0=$(date +%s.%N)
    out=$(salt_cli -t 60 '*' cmd.run 'echo hi' || true)
    t1=$(date +%s.%N)
    got=$(printf '%s' "$out" | count '"hi"')
    printf '{"seconds": %s, "answered": %s, "minions": %s}\n' "$(elapsed "$t0" "$t1")" "$got" "$n"
}

printf '{"ready": true, "salt_version": "%s", "minions": %s, "ready_seconds": %s, "minion_rss_kb": %s}\n' \
    "$version" "$n" "$ready_seconds" "$minion_rss_kb"
if [ "$mode" = "--serve" ]; then
    while read -r line; do
        case "$line" in
        run) one_run ;;
        *) say "unknown request: $line" ;;
        esac
    done
else
    for _ in $(seq "$runs"); do one_run; done
fi
