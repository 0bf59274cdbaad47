#!/usr/bin/env bash
# Podman 5 (Debian trixie's podman 5.4) for the engine matrix, answering the Docker API on its own
# socket: Debian 12 has only Podman 4.3, so Podman 5 runs in a container (as the docker-in-docker
# engines do, scripts/engines/dind.sh, with the same flags: the capabilities this sandbox allows, never
# --privileged, never the host's network; --pid host and --cgroupns host, so its containers' pids and
# cgroups are this host's, as with a local engine). The image is built FROM debian:trixie-slim with apt
# inside the build and reused, as is its /var/lib/containers (/var/lib/stigmer-engines/NAME).
# /tmp and $HOME are shared at the same paths (the homes the tests bind-mount); loopback tests run
# inside its network namespace (scripts/engines/env.sh prints the nsenter prefix).
# Prints `DOCKER_HOST=unix://…` on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/engines/common.sh

need_root podman5
name=stigmer-engine-podman5
image=stigmer-engines/podman:5
state=/var/lib/stigmer-engines/$name
sockdir=/tmp/$name
sock=$sockdir/podman.sock
mkdir -p "$(dirname "$state")"
DOCKER_HOST= bash docker/base-image.sh >&2
if ! DOCKER_HOST= docker image inspect "$image" >/dev/null 2>&1; then
  say podman5 "building $image from Debian trixie's packages"
  DOCKER_HOST= docker build -t "$image" scripts/engines/podman5 >"$state.build.log" 2>&1 || {
    say podman5 "the build failed; last lines:"; tail -n 30 "$state.build.log" >&2; exit 1; }
fi
running=$(DOCKER_HOST= docker container inspect -f '{{.State.Running}}' "$name" 2>/dev/null) || running=missing
if [ "$running" != missing ] && [ "$(DOCKER_HOST= docker container inspect -f '{{.Image}}' "$name")" != "$(DOCKER_HOST= docker image inspect -f '{{.Id}}' "$image")" ]; then
  say podman5 "$name runs an older image; replacing it"
  DOCKER_HOST= docker rm -f "$name" >/dev/null
  running=missing
fi
if [ "$running" = missing ]; then
  say podman5 "starting $name (socket $sock)"
  mkdir -p "$state" "$sockdir"
  DOCKER_HOST= docker run -d --name "$name" --label ai.stigmer.engine-matrix=true \
    --cap-add ALL --cap-drop SYS_RESOURCE --pid host \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup \
    -v /tmp:/tmp -v "$HOME:$HOME" -v "$state:/var/lib/containers" --tmpfs /run \
    "$image" podman system service --time=0 "unix://$sock" >/dev/null
elif [ "$running" != true ]; then
  say podman5 "starting the stopped $name"
  rm -f "$sock"
  DOCKER_HOST= docker start "$name" >/dev/null
fi
if ! api_answers "$sock"; then
  for _ in $(seq 1 120); do api_answers "$sock" && break; sleep 0.5; done
  if ! api_answers "$sock"; then
    say podman5 "nothing answers on $sock after 60 s; last lines of its log:"
    DOCKER_HOST= docker logs --tail 30 "$name" >&2 || true
    exit 1
  fi
fi
# The socket is root's; CI's non-root user reaches it through the stigmer-engines group.
if getent group stigmer-engines >/dev/null; then chgrp stigmer-engines "$sock" && chmod 660 "$sock"; fi
copy_images podman5 "unix://$sock" "$@"
echo "DOCKER_HOST=unix://$sock"
