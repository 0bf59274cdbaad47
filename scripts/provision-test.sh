#!/usr/bin/env bash
# What the test suite needs on a Debian machine, provisioned idempotently (scripts/test.sh runs it first;
# .ci/run runs it beside `npm ci`, which it does not need, so a fresh machine downloads both at once):
#   1. the missing Debian packages, all in ONE apt call (one `apt-get update`, where each used to make its
#      own: five on a fresh machine): docker.io (when no engine is set by DOCKER_HOST), tmux (the dashboard's
#      end-to-end tests), lsof (platform/PsFacts.ts, forced by supervisor-ps.test.ts), docker-registry and
#      apache2-utils (registry.test.ts), debootstrap (docker/base-image.sh where no registry answers) and,
#      with Podman in the engine matrix (STIGMER_TEST_ENGINES, as scripts/test.sh reads it), podman and
#      catatonit (scripts/engines/podman.sh). Installs as root only; as another user it names what the
#      tests miss (the engine's and the base image's scripts say what they need themselves).
#   2. the Docker engine (scripts/ensure-engine.sh)
#   3. the base image (docker/base-image.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/engines/common.sh

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need tmux tmux
need lsof lsof
need docker-registry docker-registry
need htpasswd apache2-utils
if [ "$(id -u)" = 0 ]; then
  # as another user, scripts/ensure-engine.sh and docker/base-image.sh say what to install when they need it
  [ -n "${DOCKER_HOST:-}" ] || need dockerd docker.io
  need debootstrap debootstrap
  engines=${STIGMER_TEST_ENGINES:-podman docker28}
  if [[ " $engines " == *" podman "* ]] || [ "$engines" = all ]; then
    need podman podman
    dpkg -s catatonit >/dev/null 2>&1 || missing+=(catatonit)
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "provision: missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "provision: installing ${missing[*]} (one apt call)"
  apt_install "${missing[@]}"
fi

bash scripts/ensure-engine.sh
bash docker/base-image.sh
