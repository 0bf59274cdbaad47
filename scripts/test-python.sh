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
# hardening: read-only root, no capabilities, no network, non-root.
echo "test-python: running pytest in a container of the test stage"
docker run --rm --network none --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
  "$tag" python3 -m pytest -q -p no:cacheprovider tests
echo "test-python: passed"
