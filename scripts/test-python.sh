#!/usr/bin/env bash
# Runs the agent-runner's Python tests (pytest) in the Dockerfile's `test` stage: the very same
# Debian environment as the runtime image. Building the stage runs the tests; a failure fails it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-engine.sh
bash docker/base-image.sh

tag=${STIGMER_DEV_IMAGE_REPOSITORY:-stigmer/agent-runner}-test:local
echo "test-python: building the test stage of docker/Dockerfile (runs pytest)"
if ! docker build --target test -f docker/Dockerfile -t "$tag" .; then
  echo "test-python: FAILED (see the pytest output above)" >&2
  exit 1
fi
# The build's pytest step is skipped when its layer is cached (same sources, same result); run the
# suite again in a container of that image so every test run really executes it, with the runtime's
# hardening: read-only root, no network, the sandbox launcher's three capabilities only (tests/run.sh).
echo "test-python: running pytest in a container of the test stage"
docker run --rm --network none --read-only --tmpfs /tmp --user 0:0 --cap-drop ALL \
  --cap-add CHOWN --cap-add SETUID --cap-add SETGID --security-opt no-new-privileges "$tag"
echo "test-python: passed"
