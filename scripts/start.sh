#!/usr/bin/env bash
# The README's main command (after `npm install`): an engine, the base image, the build, a running
# stack, and the dashboard over it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-engine.sh
bash docker/base-image.sh
npm run --silent build
node dist/cli.js server start
exec node dist/cli.js dashboard
