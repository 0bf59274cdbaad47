#!/usr/bin/env bash
# The README's test command (after `npm install`): provisions what the tests need, then runs every test.
#   1. a Docker engine (Debian's docker.io, started in the background when none answers)
#   2. the base image debian:trixie-slim (pulled, or made with debootstrap where no registry is reachable)
#   3. the TypeScript build (strict type check), the same check over tests and benchmarks, and the
#      formatter and linter (npm run lint)
#   4. the agent-runner image, and its Python tests in the Dockerfile's test stage (pytest)
#   5. the TypeScript tests: unit and component, integration against the real engine, end-to-end in tmux
# Node 24 comes from the `node` devDependency, first on the PATH of npm scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "test: Node $(node -v) is end-of-life; run through npm (npm test) so node_modules/.bin/node (Node 24) is used" >&2
  exit 1
fi

bash scripts/ensure-engine.sh
bash docker/base-image.sh
if ! command -v tmux >/dev/null 2>&1; then
  # the dashboard's end-to-end test drives it in tmux
  [ "$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null
  command -v tmux >/dev/null 2>&1 || { echo "test: tmux is missing (apt-get install tmux)" >&2; exit 1; }
fi

echo "== build (tsc, strict), lint"
npm run --silent build
npx tsc -p tsconfig.check.json
bash scripts/lint.sh

echo "== agent-runner image"
node dist/cli.js image build

echo "== Python tests (pytest in the image's test stage)"
bash scripts/test-python.sh

echo "== TypeScript tests"
# One runner over every test file, so its summary counts them all. Integration and end-to-end files
# use their own homes, ports and container names, so two may run at once on this 2-core machine.
source scripts/test-files.sh
exec node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter=spec "${unit_test_files[@]}" "${engine_test_files[@]}"
