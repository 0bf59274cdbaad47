#!/usr/bin/env bash
# Runs the agent-runner's Python tests (pytest) in the Dockerfile's `test` stage: the very same
# Debian environment as the runtime image. Building the stage runs the tests; a failure fails it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-engine.sh
bash docker/base-image.sh

tag=stigmer/agent-runner-test:local
echo "test-python: building the test stage of docker/Dockerfile (runs pytest)"
if ! docker build --target test -f docker/Dockerfile -t "$tag" .; then
  echo "test-python: FAILED (see the pytest output above)" >&2
  exit 1
fi
echo "test-python: passed"
