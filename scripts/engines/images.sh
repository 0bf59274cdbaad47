#!/usr/bin/env bash
# Builds the container images of the engine matrix and the remote test host that are missing, ahead of
# them: scripts/test.sh runs it in the background, as root, once the base image exists, so a fresh
# machine's builds (Debian's docker.io from sid, openssh-server: apt inside `docker build`, mostly
# downloads) overlap the build, the image and the main suite instead of waiting for the matrix.
# Cached machines find every image and return at once. dind.sh and remote.sh build what is still missing.
#   images.sh [docker26] [docker28] [remote]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/engines/common.sh
need_root images

DOCKER_HOST= bash docker/base-image.sh >&2
for what in "$@"; do
  case "$what" in
    docker26 | docker28) dind_image "${what#docker}" ;;
    remote) remote_image ;;
    *) say images "nothing to build for $what (docker26, docker28, remote)" ;;
  esac
done
