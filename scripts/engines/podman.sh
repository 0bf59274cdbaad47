#!/usr/bin/env bash
# Podman 4.3 (Debian 12's podman) answering the Docker API on its own socket, for the engine matrix.
# Idempotent, as root, with only Debian's mirror reachable:
#   1. apt-get install podman catatonit (catatonit is what Podman runs for `--init`)
#   2. default_ulimits in /etc/containers/containers.conf (this sandbox forbids raising rlimits, and
#      without the line every container fails "error setting rlimit")
#   3. `podman system service --time=0` on $STIGMER_PODMAN_SOCK (default /run/stigmer-podman/podman.sock)
#   4. the given images (default: the base image and the agent-runner image of this checkout) copied
#      from the host's Docker engine with `docker save | docker load` through the Podman socket
# Prints `DOCKER_HOST=unix://…` on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/engines/common.sh

sock=${STIGMER_PODMAN_SOCK:-/run/stigmer-podman/podman.sock}
log=${STIGMER_PODMAN_LOG:-/var/log/stigmer-podman.log}
need_root podman

if ! command -v podman >/dev/null 2>&1 || ! dpkg -s catatonit >/dev/null 2>&1; then
  say podman "installing Debian's podman and catatonit"
  apt_install podman catatonit
fi

conf=/etc/containers/containers.conf
if ! grep -qs '^default_ulimits' "$conf"; then
  say podman "setting default_ulimits in $conf"
  mkdir -p "$(dirname "$conf")"
  if grep -qs '^\[containers\]' "$conf"; then
    sed -i '/^\[containers\]/a default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]' "$conf"
  else
    printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]\n' >>"$conf"
  fi
fi

if ! api_answers "$sock"; then
  say podman "starting podman system service on $sock (log: $log)"
  mkdir -p "$(dirname "$sock")"
  rm -f "$sock"
  # from /: the service hands its working directory to conmon, which fails every container ("write
  # child: broken pipe") once that directory is gone (a checkout removed while the service runs on)
  # (the subshell's own output goes to the log: a caller reading ours to its end must not wait for the service)
  (cd / && exec setsid nohup podman system service --time=0 "unix://$sock") >"$log" 2>&1 </dev/null &
  wait_api podman "$sock" 60 "$log"
fi
# Non-root members of the `stigmer-engines` group (CI's non-root user) may use the socket too.
if getent group stigmer-engines >/dev/null; then
  chgrp stigmer-engines "$sock" "$(dirname "$sock")" && chmod 660 "$sock" && chmod 750 "$(dirname "$sock")"
fi

copy_images podman "unix://$sock" "$@"
echo "DOCKER_HOST=unix://$sock"
