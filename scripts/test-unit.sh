#!/usr/bin/env bash
# `npm run test:unit`: every test that needs no container engine, as any user, in seconds
# (the layers are listed in scripts/test-files.sh). The CLI runs from the sources, so a stale dist/
# is never what is tested.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-files.sh
export STIGMER_TEST_FROM_SOURCES=1
exec node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter="${STIGMER_TEST_REPORTER:-spec}" "${unit_test_files[@]}"
