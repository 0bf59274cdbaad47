#!/usr/bin/env bash
# The engine matrix (`npm run test:engines -- [ENGINE...]`): the engine-dependent tests against each
# container engine in turn, one engine at a time, then one summary. Exit 1 when any engine fails.
#   docker    the host's engine (/var/run/docker.sock; Debian 12's Docker 20.10)
#   podman    Podman 4.3's Docker-compatible API (scripts/engines/podman.sh), rootful, on the host
#   docker26  Docker 26.1 in a container (scripts/engines/dind.sh 26)
#   docker28  Docker 28.5 in a container with DOCKER_MIN_API_VERSION=1.44 (scripts/engines/dind.sh 28)
# Default: podman docker26 docker28 (`npm test` already runs everything on the host's engine).
# Each engine is provisioned first (cached: a later run reuses its packages, images and containers).
# The docker-in-docker engines run the tests inside their network namespace (nsenter --net), so the
# host loopback the tests use (the API port, the fake LLM) is the one their containers share.
# STIGMER_ENGINE_TEST_FILES overrides the test files (space-separated).
# STIGMER_ENGINE_TEST_USER=NAME runs the tests as that (non-root) user instead (see scripts/test-nonroot.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"  # Node 24 (the `node` devDependency), as npm scripts have it

engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(podman docker26 docker28)
if [ -n "${STIGMER_ENGINE_TEST_FILES:-}" ]; then
  read -r -a files <<<"$STIGMER_ENGINE_TEST_FILES"
else
  files=(test/integration/engines.test.ts test/integration/lifecycle.test.ts test/integration/logs.test.ts
         test/integration/shell.test.ts test/integration/run.test.ts test/integration/image.test.ts
         test/integration/budgets.test.ts test/e2e/dashboard.test.ts)
fi
logdir=${STIGMER_ENGINE_LOG_DIR:-$(mktemp -d /tmp/stigmer-engines.XXXXXX)}
mkdir -p "$logdir"
declare -A result

source scripts/test-summary.sh

run_engine() {
  local engine=$1 log=$logdir/$engine.log prefix=() settings
  settings=$(bash scripts/engines/env.sh "$engine") || return 1
  local DOCKER_HOST= STIGMER_ENGINE_NETNS= STIGMER_ENGINE_BIN=
  eval "$settings"
  [ -n "$STIGMER_ENGINE_NETNS" ] && prefix=(nsenter "--net=$STIGMER_ENGINE_NETNS" --)
  local host=$DOCKER_HOST binpath=$STIGMER_ENGINE_BIN
  local as_user=()
  if [ -n "${STIGMER_ENGINE_TEST_USER:-}" ]; then
    as_user=(setpriv "--reuid=$STIGMER_ENGINE_TEST_USER" "--regid=$(id -g "$STIGMER_ENGINE_TEST_USER")" --init-groups --reset-env)
  fi
  # Known differences of an engine, documented in README's "Supported engines": files left out on it.
  local run_files=() f
  for f in "${files[@]}"; do
    if [ "$engine" = podman ] && [ "$f" = test/integration/logs.test.ts ]; then
      echo "== $engine: $f left out: Podman 4.3 stamps container log lines to the second, so merging them in time order with natives and --since are exact to the second only"
      continue
    fi
    run_files+=("$f")
  done
  echo "== engine $engine ($host)"
  "${prefix[@]}" "${as_user[@]}" env PATH="${binpath:+$binpath:}$PATH" HOME="$(getent passwd "${STIGMER_ENGINE_TEST_USER:-$(id -un)}" | cut -d: -f6)" \
    DOCKER_HOST="$host" STIGMER_TEST_ENGINE="$engine" NO_COLOR=1 CI="${CI:-}" \
    STIGMER_DEV_IMAGE_REPOSITORY="${STIGMER_DEV_IMAGE_REPOSITORY:-}" \
    node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter=spec "${run_files[@]}" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

failed=0
for engine in "${engines[@]}"; do
  started=$(date +%s)
  run_engine "$engine"
  code=$?
  seconds=$(( $(date +%s) - started ))
  log=$logdir/$engine.log
  [ "$code" = 0 ] || failed=1
  result[$engine]="$(summary_line "$engine" 9 "$code" "$seconds" "$log" "not run (provisioning failed)")"
done

echo
echo "== engine matrix (${#files[@]} test files; logs in $logdir)"
for engine in "${engines[@]}"; do echo "  ${result[$engine]}"; done
exit "$failed"
