#!/usr/bin/env bash
# The OpenSSH peer: a private sshd on 127.0.0.1:${SSH_PORT:-14522} (own host key, own client
# key, this user only, no PAM), measured by stream_measure.py exactly as Bosun's sessions are.
# Installs openssh-server from Debian when sshd is missing. Stops the sshd it started on exit.
# Usage: ssh.sh BYTES ECHOES   (prints one JSON object)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bytes="${1:-209715200}"
echoes="${2:-1000}"
port="${SSH_PORT:-14522}"
sshd_bin="$(command -v sshd || ls /usr/sbin/sshd 2>/dev/null || true)"
if [ -z "$sshd_bin" ]; then
  apt-get install -y -qq openssh-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssh-server >/dev/null; }
  sshd_bin=/usr/sbin/sshd
fi
dir="$(mktemp -d)"
trap 'kill "$(cat "$dir/sshd.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
cp "$dir/client_key.pub" "$dir/authorized_keys"
chmod 700 "$dir"
cat > "$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
CONF
mkdir -p /run/sshd
"$sshd_bin" -f "$dir/sshd_config" -E "$dir/sshd.log"
for _ in $(seq 100); do
  ssh -p "$port" -i "$dir/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o BatchMode=yes 127.0.0.1 true 2>/dev/null && break
  python3 -c 'import time; time.sleep(0.1)'
done
python3 "$here/stream_measure.py" --label openssh --bytes "$bytes" --echoes "$echoes" -- \
  ssh -p "$port" -i "$dir/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o LogLevel=ERROR -o BatchMode=yes 127.0.0.1
