#!/usr/bin/env bash
# A Bosun cluster on this machine, to try replicas: a throwaway PostgreSQL (initdb in a temp
# dir), an S3-compatible object store (moto_server when installed, else one shared folder),
# N server replicas and M agents that know every replica. Ctrl-C stops everything and deletes
# the temp dirs.
#
#   scripts/cluster-demo.sh [--replicas N] [--agents M] [--bin-dir DIR] [--check]
#
# --bin-dir: where `bosun` and `bosun-agent` are (default: build them with cargo, debug).
# --check:   run one command on every node through the last replica, print its output, stop.
set -euo pipefail
cd "$(dirname "$0")/.."

replicas=3 agents=2 bin_dir="" check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$replicas$agents" in *[!0-9]*) echo "cluster-demo: counts are numbers" >&2; exit 2 ;; esac
[ "$replicas" -ge 1 ] && [ "$agents" -ge 1 ] || { echo "cluster-demo: at least 1 replica and 1 agent" >&2; exit 2; }

say() { if [ -t 2 ]; then printf '\033[1mcluster-demo:\033[0m %s\n' "$*" >&2; else echo "cluster-demo: $*" >&2; fi; }
die() { say "$*"; exit 1; }

if [ -z "$bin_dir" ]; then
  say "building bosun and bosun-agent (cargo, debug)"
  cargo build -q -p bosun-cli -p bosun-agent
  bin_dir="${CARGO_TARGET_DIR:-target}/debug"
fi
bosun="$bin_dir/bosun" agent_bin="$bin_dir/bosun-agent"
[ -x "$bosun" ] && [ -x "$agent_bin" ] || die "no bosun/bosun-agent in $bin_dir"

# PostgreSQL's server binaries, as the e2e harness finds them.
pg_bin="${BOSUN_PG_BINDIR:-}"
if [ -z "$pg_bin" ] && command -v pg_config >/dev/null 2>&1; then pg_bin=$(pg_config --bindir); fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || die "PostgreSQL's initdb not found (apt-get install postgresql, or set BOSUN_PG_BINDIR)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/bosun-cluster.XXXXXX)
pg_root=$(mktemp -d /tmp/bosun-cluster-pg.XXXXXX)
pids=()
as_pg=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses root: the cluster belongs to the postgres user.
  chown postgres:postgres "$pg_root"
  as_pg=(runuser -u postgres --)
fi
stop_all() {
  trap - EXIT INT TERM
  say "stopping"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_root/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work" "$pg_root"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

pg_port=$(free_port)
say "PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_root/data" -U bosun --auth=trust -E UTF8 --locale=C >"$pg_root/initdb.log" 2>&1 \
  || die "initdb failed: $(tail -n 5 "$pg_root/initdb.log")"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/pg.log" -w -t 30 \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pg_root" start >/dev/null \
  || die "PostgreSQL did not start: $(tail -n 5 "$pg_root/pg.log")"
"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U bosun bosun
database="postgres://bosun@127.0.0.1:$pg_port/bosun"

s3_env=()
if command -v moto_server >/dev/null 2>&1; then
  s3_port=$(free_port)
  moto_server -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
  pids+=($!)
  s3_env=(AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1)
  for _ in $(seq 100); do
    if env "${s3_env[@]}" python3 -c "import boto3; boto3.client('s3', endpoint_url='http://127.0.0.1:$s3_port').create_bucket(Bucket='bosun-demo')" 2>/dev/null; then
      break
    fi
    sleep 0.2
  done
  blobs="s3://bosun-demo/outputs?endpoint=http://127.0.0.1:$s3_port&region=us-east-1"
  say "S3 (moto_server) on 127.0.0.1:$s3_port, bucket bosun-demo"
else
  mkdir -m 700 "$work/blobs"
  blobs="file://$work/blobs"
  say "moto_server not installed (pip install 'moto[server]'): outputs go to one shared folder"
fi

# Replica 1 starts alone: on the empty database it creates the admin user and writes the key
# to its data dir. The others share its keyring (and its release-signing key).
urls=()
start_replica() {
  local n=$1 dir="$work/replica-$1"
  shift
  mkdir -p -m 700 "$dir"
  env "${s3_env[@]}" "$bosun" server --listen 127.0.0.1:0 --data-dir "$dir" \
    --database "$database" --blobs "$blobs" "$@" >"$dir.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    [ -s "$dir/listen-addr" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || die "replica $n stopped: $(tail -n 5 "$dir.log")"
    sleep 0.1
  done
  [ -s "$dir/listen-addr" ] || die "replica $n did not start: $(tail -n 5 "$dir.log")"
  urls+=("http://$(cat "$dir/listen-addr")")
}
start_replica 1
for n in $(seq 2 "$replicas"); do
  mkdir -p -m 700 "$work/replica-$n"
  cp -p "$work/replica-1/release-signing.key" "$work/replica-$n/" 2>/dev/null || true
  start_replica "$n" --kms-key-file "$work/replica-1/kms/keyring.json"
done
say "replicas: ${urls[*]}"

export BOSUN_DATA_DIR="$work/replica-1"
activation=$("$bosun" activation create --limit "$agents" --description "cluster demo")
id=$(sed -n 's/^Activation id: *//p' <<<"$activation")
code=$(sed -n 's/^Activation code: *\([^ ]*\).*/\1/p' <<<"$activation")
[ -n "$id" ] && [ -n "$code" ] || die "could not create an activation: $activation"
for n in $(seq "$agents"); do
  # Every agent knows every replica, each starting with another one: agents spread out.
  order=()
  for k in $(seq 0 $((replicas - 1))); do order+=("${urls[$(((n - 1 + k) % replicas))]}"); done
  servers=$(IFS=,; echo "${order[*]}")
  state="$work/agent-$n"
  "$agent_bin" register --server "$servers" --id "$id" --code "$code" --state-dir "$state" >/dev/null
  "$agent_bin" run --state-dir "$state" >"$state.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 300); do
  online=$("$bosun" nodes 2>/dev/null | grep -c Online || true)
  [ "$online" -ge "$agents" ] && break
  sleep 0.1
done
[ "${online:-0}" -ge "$agents" ] || die "only ${online:-0} of $agents agents came online"
say "$agents agents online"

if [ "$check" = 1 ]; then
  # Through the last replica: with agents spread over the others, this crosses replicas.
  BOSUN_ENDPOINT="${urls[-1]}" "$bosun" run --all -- 'echo "hello from $(hostname) as $AWS_SSM_INSTANCE_ID"'
  exit $?
fi

cat <<EOF

A Bosun cluster is running ($replicas replicas, $agents agents). In another shell:

  export BOSUN_DATA_DIR=$work/replica-1
  $bosun nodes
  $bosun run --all -- uptime
  BOSUN_ENDPOINT=${urls[-1]} $bosun run --all -- hostname     # through another replica
  aws ssm describe-instance-information --endpoint-url ${urls[0]}   # with the key in \$BOSUN_DATA_DIR/credentials

PostgreSQL: $database    Logs: $work/*.log
Press Ctrl-C to stop everything (the temp dirs are deleted).
EOF
wait "${pids[0]}"
