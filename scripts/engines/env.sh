#!/usr/bin/env bash
# Provisions one engine of the matrix (cached) and prints how to reach it, as shell assignments:
#   DOCKER_HOST=unix://…      its socket
#   STIGMER_ENGINE_NETNS=…    (docker-in-docker) the network namespace to run loopback tests in:
#                             nsenter --net=$STIGMER_ENGINE_NETNS -- COMMAND
#   STIGMER_ENGINE_BIN=…      (docker-in-docker) a directory holding that engine's docker CLI, to put
#                             first on PATH (the host's 20.10 CLI speaks API 1.41, below Docker 29's floor)
# Engines: docker (the host's, /var/run/docker.sock), podman, podman5 (Podman 5.4 in a container), docker26, docker28. Used by
# scripts/test-engines.sh and bench/engines.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."

engine=${1:?usage: env.sh docker|podman|podman5|docker26|docker28}
# how long provisioning took (seconds), on stderr: a fresh machine's CI time is the cached one plus these
started=$SECONDS
trap 'echo "engines/$engine: provisioned in $((SECONDS - started)) s" >&2' EXIT
case "$engine" in
  docker)
    bash scripts/ensure-engine.sh >&2
    echo "DOCKER_HOST=unix:///var/run/docker.sock" ;;
  podman)
    bash scripts/engines/podman.sh | tail -n1 ;;
  podman5)
    bash scripts/engines/podman5.sh | tail -n1
    echo "STIGMER_ENGINE_NETNS=/proc/$(DOCKER_HOST= docker inspect -f '{{.State.Pid}}' stigmer-engine-podman5)/ns/net" ;;
  docker26 | docker28)
    bash scripts/engines/dind.sh "${engine#docker}" | tail -n1
    echo "STIGMER_ENGINE_NETNS=/proc/$(DOCKER_HOST= docker inspect -f '{{.State.Pid}}' "stigmer-engine-$engine")/ns/net"
    echo "STIGMER_ENGINE_BIN=/var/lib/stigmer-engines/bin/stigmer-engine-$engine" ;;
  *)
    echo "engines: unknown engine $engine (docker, podman, podman5, docker26, docker28)" >&2
    exit 2 ;;
esac
