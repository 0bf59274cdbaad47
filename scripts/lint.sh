#!/usr/bin/env bash
# `npm run lint` (also run by `npm test`): the layer rule of docs/architecture.md over source/
# (scripts/check-layers.mjs), no source file over 350 lines without a reason (scripts/check-size.mjs;
# CONTRIBUTING.md, "Lint and format"), then Biome's formatter check and linter over the whole tree (biome.json
# says which files). `npx biome check --write .` applies the formatting and safe fixes.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/check-layers.mjs
node scripts/check-size.mjs
exec biome check .
