#!/usr/bin/env bash
# Make a Docker engine answer: use the one running, else (as root) install docker.io and
# start dockerd in the background; otherwise say how to get one. Idempotent.
set -euo pipefail

engine_answers() { docker info >/dev/null 2>&1; }

if engine_answers; then
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  echo "agentbench: no Docker engine answers and this user cannot start one; install Docker" \
       "(https://docs.docker.com/engine/install/) or ask an administrator to start it, then rerun." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "agentbench: installing docker.io (Debian package) to get a Docker engine..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq docker.io >/dev/null
fi

log=/var/log/agentbench-dockerd.log
echo "agentbench: starting dockerd in the background (log: $log)..." >&2
setsid nohup dockerd >"$log" 2>&1 < /dev/null &

for _ in $(seq 1 60); do
  if engine_answers; then
    echo "agentbench: Docker engine is up." >&2
    exit 0
  fi
  sleep 1
done
echo "agentbench: dockerd did not answer within 60 s; see $log." >&2
exit 1
