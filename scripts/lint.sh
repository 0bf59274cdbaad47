#!/usr/bin/env bash
# `npm run lint` (also run by `npm test`): Biome's formatter check and linter over the whole tree
# (biome.json says which files). `npx biome check --write .` applies the formatting and safe fixes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec biome check .
