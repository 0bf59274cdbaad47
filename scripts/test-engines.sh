#!/usr/bin/env bash
# The engine matrix (`npm run test:engines -- [ENGINE...]`): the engine-dependent tests against each
# container engine in turn, one engine at a time (STIGMER_ENGINES_PARALLEL=1: all at once, each
# printed whole when all have ended), then one summary. Exit 1 when any engine fails.
#   docker    the host's engine (/var/run/docker.sock; Debian 12's Docker 20.10)
#   podman    Podman 4.3's Docker-compatible API (scripts/engines/podman.sh), rootful, on the host
#   podman5   Podman 5.4 (Debian trixie's) in a container (scripts/engines/podman5.sh), rootful
#   docker26  Docker 26.1 in a container (scripts/engines/dind.sh 26)
#   docker28  Docker 28.5 in a container with DOCKER_MIN_API_VERSION=1.44 (scripts/engines/dind.sh 28)
# Default: podman docker26 docker28 (`npm test` already runs everything on the host's engine).
# Files: every engine-dependent test file (scripts/test-files.sh) but those left_out() names, each with
# its reason; STIGMER_ENGINE_TEST_FILES overrides them.
# Each engine is provisioned first (cached: a later run reuses its packages, images and containers).
# The docker-in-docker engines run the tests inside their network namespace (nsenter --net), so the
# host loopback the tests use (the API port, the fake LLM) is the one their containers share.
# STIGMER_ENGINE_TEST_USER=NAME runs the tests as that (non-root) user instead (see scripts/test-nonroot.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"  # Node 24 (the `node` devDependency), as npm scripts have it

engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(podman docker26 docker28)
if [ -n "${STIGMER_ENGINE_TEST_FILES:-}" ]; then
  read -r -a files <<<"$STIGMER_ENGINE_TEST_FILES"
else
  # every engine-dependent test file (scripts/test-files.sh), less those left_out names below
  source scripts/test-files.sh
  files=("${engine_test_files[@]}")
fi
logdir=${STIGMER_ENGINE_LOG_DIR:-$(mktemp -d /tmp/stigmer-engines.XXXXXX)}
mkdir -p "$logdir"
declare -A result

source scripts/test-summary.sh

# A file left out on an engine prints why (one line; docs/engines.md lists them, generated from here) and
# succeeds; a file that runs there fails. Files that use no engine at all run once, in the main suite.
left_out() {
  local engine=$1 file=$2
  case "$file" in
    test/integration/supervisor.test.ts | test/integration/supervisor-ps.test.ts)
      echo "native services only: no container engine involved (run once, in the main suite)"; return 0 ;;
    test/integration/remoteEndpoints.test.ts)
      echo "needs the remote test host (scripts/test-remote.sh runs it over ssh and TLS)"; return 0 ;;
    test/integration/npmPackage.test.ts | test/integration/binary.test.ts | test/integration/upgrade.test.ts | test/integration/registry.test.ts)
      echo "packaging (npm install -g, the single executable, a release pushed to a local registry): the same on every engine, run once on the reference engine (each takes minutes)"; return 0 ;;
  esac
  if [ "$engine" = podman ]; then
    case "$file" in
      test/integration/logs.test.ts)
        echo "Podman 4.3 stamps container log lines to the second, so merging them in time order with natives and --since are exact to the second only"; return 0 ;;
    esac
  fi
  if [ "$engine" = podman5 ]; then
    case "$file" in
      test/integration/logs.test.ts)
        echo "Podman 5.4 stamps container log lines to the second too (5 of 12 fail there: merging in time order with natives, --since, a recreate within the second of the last line)"; return 0 ;;
      test/integration/containerStats.test.ts)
        echo "Podman 5.4 on cgroup v1 sends the cgroup's RSS as memory usage (108 KiB where the kernel's usage less inactive files is 428 KiB), so the dashboard's memory is below the cgroup's; CPU agrees (2 of 2 fail on memory)"; return 0 ;;
    esac
  fi
  return 1
}

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
  local run_files=() f reason
  for f in "${files[@]}"; do
    if reason=$(left_out "$engine" "$f"); then
      echo "== $engine: $f left out: $reason"
      continue
    fi
    run_files+=("$f")
  done
  echo "== engine $engine ($host)"
  "${prefix[@]}" "${as_user[@]}" env PATH="${binpath:+$binpath:}$PATH" HOME="$(getent passwd "${STIGMER_ENGINE_TEST_USER:-$(id -un)}" | cut -d: -f6)" \
    DOCKER_HOST="$host" STIGMER_TEST_ENGINE="$engine" NO_COLOR=1 CI="${CI:-}" \
    STIGMER_DEV_IMAGE_REPOSITORY="${STIGMER_DEV_IMAGE_REPOSITORY:-}" \
    node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=./scripts/test-file-times.mjs --test-reporter-destination=stdout "${run_files[@]}" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

failed=0
if [ "${STIGMER_ENGINES_PARALLEL:-0}" = 1 ] && [ ${#engines[@]} -gt 1 ]; then
  # Side by side: each engine's run in the background, its output in its log only, printed whole (in
  # the engines' order) once all have ended. They share nothing but the CPUs and the host's engine
  # (which only `docker save`s the images to them): each has its own socket, containers and homes, the
  # free ports the tests pick are their own (docker in docker runs in its own network namespace, and
  # Podman's tests on the host's loopback pick free ports as every test does).
  declare -A pid started_at
  for engine in "${engines[@]}"; do
    started_at[$engine]=$(date +%s)
    echo "== engine $engine: running beside the others (log: $logdir/$engine.out)"
    run_engine "$engine" >"$logdir/$engine.out" 2>&1 &
    pid[$engine]=$!
  done
  for engine in "${engines[@]}"; do
    wait "${pid[$engine]}"
    code=$?
    seconds=$(( $(date +%s) - ${started_at[$engine]} ))
    cat "$logdir/$engine.out"
    [ "$code" = 0 ] || failed=1
    result[$engine]="$(summary_line "$engine" 9 "$code" "$seconds" "$logdir/$engine.log" "not run (provisioning failed)")"
  done
else
  for engine in "${engines[@]}"; do
    started=$(date +%s)
    run_engine "$engine"
    code=$?
    seconds=$(( $(date +%s) - started ))
    log=$logdir/$engine.log
    [ "$code" = 0 ] || failed=1
    result[$engine]="$(summary_line "$engine" 9 "$code" "$seconds" "$log" "not run (provisioning failed)")"
  done
fi

echo
echo "== engine matrix (${#files[@]} test files; logs in $logdir)"
for engine in "${engines[@]}"; do echo "  ${result[$engine]}"; done
exit "$failed"
