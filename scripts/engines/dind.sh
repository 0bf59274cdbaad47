#!/usr/bin/env bash
# A second Docker engine (docker in docker) for the engine matrix, from Debian's packages only:
#   dind.sh 26   Docker 26.1 (trixie's docker.io)
#   dind.sh 28   Docker 28.5 (sid's docker.io + docker-cli), with DOCKER_MIN_API_VERSION=1.44 (Docker 29's
#                floor: any client asking for an older API is refused)
# Idempotent, as root. The image is built FROM debian:trixie-slim (docker/base-image.sh) with apt inside
# the build and reused on later runs, as is the engine's /var/lib/docker (/var/lib/stigmer-engines/NAME)
# and the container itself when it still runs. It runs with the capabilities this sandbox allows
# (`--privileged` fails here: the bounding set lacks CAP_SYS_RESOURCE) and on Docker's default bridge:
# NEVER with the host's network, where a second dockerd takes over docker0 and the NAT rules.
# /tmp and $HOME are shared at the same paths, so the homes the tests make there can be bind-mounted.
# Loopback tests must run inside its network namespace (scripts/engines/env.sh prints the nsenter prefix).
# Also copies that engine's docker CLI to /var/lib/stigmer-engines/bin/NAME/docker: the host's 20.10 CLI
# speaks API 1.41, which the 1.44 floor refuses.
# Prints `DOCKER_HOST=unix://…` on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/engines/common.sh

version=${1:?usage: dind.sh 26|28 [IMAGE...]}
shift
case "$version" in
  26) min_api= ;;
  28) min_api=1.44 ;;
  *) say dind "unknown version $version (26 or 28)"; exit 2 ;;
esac
need_root "docker$version"

name=stigmer-engine-docker$version
image=stigmer-engines/docker:$version
state=/var/lib/stigmer-engines/$name
bindir=/var/lib/stigmer-engines/bin/$name
sockdir=/tmp/$name
sock=$sockdir/docker.sock

mkdir -p "$(dirname "$state")"
DOCKER_HOST= bash docker/base-image.sh >&2
dind_image "$version"

running=$(DOCKER_HOST= docker container inspect -f '{{.State.Running}}' "$name" 2>/dev/null) || running=missing
# the flags below, versioned: a container started with other flags (or another image) is replaced
flags=2
if [ "$running" != missing ] && { [ "$(DOCKER_HOST= docker container inspect -f '{{.Image}}' "$name")" != "$(DOCKER_HOST= docker image inspect -f '{{.Id}}' "$image")" ] ||
  [ "$(DOCKER_HOST= docker container inspect -f '{{index .Config.Labels "ai.stigmer.engine-flags"}}' "$name")" != "$flags" ]; }; then
  say "docker$version" "$name runs an older image or older flags; replacing it"
  DOCKER_HOST= docker rm -f "$name" >/dev/null
  running=missing
fi
if [ "$running" = missing ]; then
  say "docker$version" "starting $name (socket $sock)"
  mkdir -p "$state" "$sockdir"
  env_args=()
  [ -n "$min_api" ] && env_args=(-e "DOCKER_MIN_API_VERSION=$min_api")
  # --pid host: the engine's container pids are the host's, as with a local engine (tests signal them)
  DOCKER_HOST= docker run -d --name "$name" --label ai.stigmer.engine-matrix=true --label ai.stigmer.engine-flags="$flags" "${env_args[@]}" \
    --cap-add ALL --cap-drop SYS_RESOURCE --pid host \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup \
    -v /tmp:/tmp -v "$HOME:$HOME" -v "$state:/var/lib/docker" --tmpfs /run \
    "$image" dockerd -H "unix://$sock" >/dev/null
elif [ "$running" != true ]; then
  say "docker$version" "starting the stopped $name"
  rm -f "$sock"
  DOCKER_HOST= docker start "$name" >/dev/null
fi
if ! api_answers "$sock"; then
  for _ in $(seq 1 120); do api_answers "$sock" && break; sleep 0.5; done
  if ! api_answers "$sock"; then
    say "docker$version" "nothing answers on $sock after 60 s; last lines of its log:"
    DOCKER_HOST= docker logs --tail 30 "$name" >&2 || true
    exit 1
  fi
fi
# The socket is root's; CI's non-root user reaches it through the stigmer-engines group.
if getent group stigmer-engines >/dev/null; then chgrp stigmer-engines "$sock" && chmod 660 "$sock"; fi

if ! [ -x "$bindir/docker" ]; then
  mkdir -p "$bindir"
  DOCKER_HOST= docker cp "$name:/usr/bin/docker" "$bindir/docker"
fi
PATH=$bindir:$PATH copy_images "docker$version" "unix://$sock" "$@"
echo "DOCKER_HOST=unix://$sock"
