#!/usr/bin/env bash
# Makes a Docker engine available for the tests and the dashboard on a Debian machine:
# installs Debian's docker.io when dockerd is missing, starts dockerd in the background when
# nothing answers on the socket, and waits for it. Idempotent; safe to run on every test run.
set -euo pipefail

sock=/var/run/docker.sock
log=${STIGMER_DOCKERD_LOG:-/var/log/stigmer-dockerd.log}

engine_answers() {
  [ -S "$sock" ] && curl -fsS --max-time 2 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1
}

if [ -n "${DOCKER_HOST:-}" ]; then
  echo "ensure-engine: DOCKER_HOST=$DOCKER_HOST is set; using that engine as it is"
  exit 0
fi

if engine_answers; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-engine: no Docker engine here; install one (Debian: sudo apt-get install docker.io) and start it" >&2
    exit 1
  fi
  echo "ensure-engine: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! engine_answers; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-engine: dockerd is installed but not running; start it (sudo systemctl start docker)" >&2
    exit 1
  fi
  echo "ensure-engine: starting dockerd (log: $log)"
  rm -f "$sock"
  # from /, so the daemon never runs in a directory that may be removed (a CI checkout)
  (cd / && exec nohup dockerd) >"$log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_answers && break
    sleep 0.5
  done
fi

if ! engine_answers; then
  echo "ensure-engine: dockerd did not answer on $sock within 60 s; last lines of $log:" >&2
  tail -n 20 "$log" >&2 || true
  exit 1
fi
echo "ensure-engine: engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
