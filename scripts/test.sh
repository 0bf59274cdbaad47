#!/usr/bin/env bash
# The README's test command (after `npm install`): provisions what the tests need, then runs every test.
#   1. the Debian packages the tests need, in one apt call, and a Docker engine (Debian's docker.io, started
#      in the background when none answers): scripts/provision-test.sh
#   2. the base image debian:trixie-slim (pulled, or made with debootstrap where no registry is reachable)
#   3. the TypeScript build (strict type check), the same check over tests and benchmarks, and the
#      formatter and linter (npm run lint)
#   4. the agent-runner image, and its Python tests in the Dockerfile's test stage (pytest)
#   5. the TypeScript tests: unit and component, integration against the real engine, end-to-end in tmux
#   6. as root: the engine-dependent tests on Podman 4.3 and Docker 28.5 (scripts/test-engines.sh), and
#      beside them a part of the suite as a non-root user in the docker group (scripts/test-nonroot.sh),
#      then part of it against a remote engine over ssh:// and tcp+TLS (scripts/test-remote.sh)
# Node 24 comes from the `node` devDependency, first on the PATH of npm scripts.
# Each phase's header says when it began (m:ss since npm test began); the end prints each phase's wall
# time and the share of the machine's CPU left idle meanwhile (/proc/stat: on a shared machine, the
# others' load is in it too, so the load average is printed beside it), then each test run prints its
# slowest files (scripts/test-file-times.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."

began=$(date +%s)
phase_lines=()
phase_name=
# cpu_now: the idle and total jiffies of all CPUs so far
cpu_now() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t; exit }' /proc/stat; }
# phase NAME [NOTE]: ends the phase before (its seconds and idle share go to the table printed by
# phase_table), prints "== NAME NOTE [m:ss]"; phase "" ends the last one
phase() {
  local now idle total elapsed
  now=$(date +%s)
  read -r idle total < <(cpu_now)
  if [ -n "$phase_name" ]; then
    elapsed=$((now - phase_began))
    phase_lines+=("$(printf '  %-40s %4d s  %3d %% idle (load %s)' "$phase_name" "$elapsed" \
      $(( (idle - phase_idle) * 100 / ((total - phase_total) > 0 ? (total - phase_total) : 1) )) "$(cut -d' ' -f1 /proc/loadavg)")")
  fi
  phase_name=$1 phase_began=$now phase_idle=$idle phase_total=$total
  elapsed=$((now - began))
  [ -z "$1" ] || printf '== %s%s [%d:%02d]\n' "$1" "${2:+ $2}" $((elapsed / 60)) $((elapsed % 60))
}
phase_table() {
  phase ""
  local elapsed=$(($(date +%s) - began))
  echo "== phases (wall time on the critical path; CPU idle of the whole machine; ${elapsed} s in all)"
  printf '%s\n' "${phase_lines[@]}"
}
# the test runner: the spec reporter, and each file's wall time at the end
test_run=(node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter=spec --test-reporter-destination=stdout
  --test-reporter=./scripts/test-file-times.mjs --test-reporter-destination=stdout)

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "test: Node $(node -v) is end-of-life; run through npm (npm test) so node_modules/.bin/node (Node 24) is used" >&2
  exit 1
fi

phase "provisioning (Debian packages, engine, base image)"
bash scripts/provision-test.sh

# As root, the engine matrix's and the remote test host's images are built now, in the background
# (scripts/engines/images.sh: a fresh machine's apt downloads inside `docker build` overlap the build and
# the main suite; a cached machine has them all), and waited for before the matrix.
engines=${STIGMER_TEST_ENGINES:-podman docker28}
[ "$engines" = all ] && engines="podman docker26 docker28"
images_pid=
if [ "$(id -u)" = 0 ]; then
  engine_images=()
  for engine in $engines; do case "$engine" in docker26 | docker28) engine_images+=("$engine") ;; esac; done
  [ "${STIGMER_TEST_REMOTE:-1}" != 0 ] && engine_images+=(remote)
  if [ ${#engine_images[@]} -gt 0 ]; then
    images_log=$(mktemp /tmp/stigmer-engine-images.XXXXXX)
    bash scripts/engines/images.sh "${engine_images[@]}" </dev/null >"$images_log" 2>&1 &
    images_pid=$!
  fi
fi

phase "build (tsc, strict), lint"
npm run --silent build
npx tsc -p tsconfig.check.json
bash scripts/lint.sh

phase "agent-runner image"
node dist/cli.js image build

# The Python tests beside the TypeScript suite: pytest runs in a container of the image's test stage,
# whose base layers the image build just made, and touches nothing the suite uses; its output is printed
# whole after the suite. Before the suite, one after the other, it cost ~30 s (cached) to ~60 s (fresh).
python_log=$(mktemp /tmp/stigmer-python.XXXXXX)
echo "== Python tests (pytest in the image's test stage), beside the TypeScript tests (log: $python_log)"
(
  t0=$(date +%s)
  code=0
  bash scripts/test-python.sh </dev/null || code=$?
  echo "test-python: $(($(date +%s) - t0)) s beside the TypeScript tests"
  exit "$code"
) >>"$python_log" 2>&1 &
python_pid=$!

phase "TypeScript tests"
# One runner over every test file, so its summary counts them all. Integration and end-to-end files
# use their own homes, ports and container names, so two may run at once on this 2-core machine.
source scripts/test-files.sh
suite=0
suite_log=$(mktemp /tmp/stigmer-suite.XXXXXX)
"${test_run[@]}" "${unit_test_files[@]}" "${engine_test_files[@]}" 2>&1 | tee "$suite_log" || suite=${PIPESTATUS[0]}
python=0
wait "$python_pid" || python=$?
echo "== Python tests: their output"
cat "$python_log"

# The engine matrix: the engine-dependent tests on the other engines (scripts/test-engines.sh), and
# beside it one lane of the rest, one after the other: a part of the suite as a non-root user in the
# docker group (scripts/test-nonroot.sh, on the local Docker: another engine, other homes and ports),
# then the remote engine (Docker 28.5 in its own namespaces) over ssh:// and tcp+TLS (scripts/
# test-remote.sh; its two endpoints side by side). The lane's output is printed whole after the matrix.
# As root only (they install and start engines, and create the user). STIGMER_TEST_ENGINES picks the
# engines (default: Podman 4.3 and Docker 28.5 with the 1.44 API floor, side by side; `all` adds Docker
# 26.1); STIGMER_TEST_ENGINES=none, STIGMER_TEST_NONROOT=0 and STIGMER_TEST_REMOTE=0 skip each part.
# One after the other, matrix (6 min 29 s) then remote (4 min 49 s) took 11 min 18 s of a 19 min 14 s
# run; the lane (non-root 2 min 25 s, then remote) ends about when the matrix does: the two cores are
# mostly idle while the tests wait on engines (see the phase table's idle share).
matrix=0
nonroot=0
remote=0
if [ "$(id -u)" = 0 ]; then
  if [ -n "$images_pid" ]; then
    # a failed build is told here; dind.sh and remote.sh try again (and fail with its reason) below
    wait "$images_pid" || echo "test: building the engines' images failed; the engines below build what is missing"
    [ -s "$images_log" ] && { echo "== engine images (built beside the suite)"; cat "$images_log"; }
  fi
  # both the matrix and the non-root part would create the group that the engines' sockets are given
  # to: made once, before either
  getent group stigmer-engines >/dev/null || groupadd --system stigmer-engines
  lane_pid=
  lane_dir=$(mktemp -d /tmp/stigmer-lane.XXXXXX)
  lane=()
  [ "${STIGMER_TEST_NONROOT:-1}" != 0 ] && lane+=(nonroot)
  [ "${STIGMER_TEST_REMOTE:-1}" != 0 ] && lane+=(remote)
  if [ ${#lane[@]} -gt 0 ]; then
    echo "== beside the engine matrix, one after the other: ${lane[*]} (logs: $lane_dir)"
    (
      for part in "${lane[@]}"; do
        code=0
        case "$part" in
          nonroot) bash scripts/test-nonroot.sh docker </dev/null >"$lane_dir/nonroot.log" 2>&1 || code=$? ;;
          remote) bash scripts/test-remote.sh </dev/null >"$lane_dir/remote.log" 2>&1 || code=$? ;;
        esac
        echo "$code" >"$lane_dir/$part.code"
      done
    ) &
    lane_pid=$!
  fi
  if [ "$engines" != none ]; then
    phase "engine matrix: $engines" "(beside it: ${lane[*]:-nothing})"
    # shellcheck disable=SC2086
    matrix_dir=$(mktemp -d /tmp/stigmer-engines.XXXXXX)
    STIGMER_ENGINE_LOG_DIR=$matrix_dir STIGMER_ENGINES_PARALLEL=${STIGMER_ENGINES_PARALLEL:-1} bash scripts/test-engines.sh $engines || matrix=$?
  fi
  if [ -n "$lane_pid" ]; then
    phase "after the matrix: the rest of the lane (${lane[*]})"
    wait "$lane_pid" || true
    # lane_result PART: its exit code (1 when it never ended: no code file)
    lane_result() { cat "$lane_dir/$1.code" 2>/dev/null || echo 1; }
    if [ "${STIGMER_TEST_NONROOT:-1}" != 0 ]; then
      nonroot=$(lane_result nonroot)
      echo "== as a non-root user in the docker group: its output"
      cat "$lane_dir/nonroot.log"
    fi
    if [ "${STIGMER_TEST_REMOTE:-1}" != 0 ]; then
      remote=$(lane_result remote)
      echo "== remote engine over ssh:// and tcp+TLS: its output"
      cat "$lane_dir/remote.log"
    fi
  fi
fi

# Last before the summary, where a reader of only the end finds them: each failed run's own list of
# its failing tests with their errors (the spec reporter's "failing tests" section, its stack frames left out, cut at 60 lines).
failing_tests() {
  local name=$1 log=$2
  [ -s "$log" ] && grep -q '^✖ failing tests:' "$log" || return 0
  echo "== failing tests: $name"
  awk '/^✖ failing tests:/ { on = 1; n = 0; next } on && /^(ℹ |files: |== )/ { on = 0 } on && !/^ +at / && n++ < 60' "$log"
}
failing_tests suite "$suite_log"
for log in "${matrix_dir:-/nonexistent}"/*.log; do failing_tests "engine $(basename "$log" .log)" "$log"; done
failing_tests non-root "${lane_dir:-/nonexistent}/nonroot.log"
failing_tests "remote (ssh, tls)" "${lane_dir:-/nonexistent}/remote.log"
phase_table
echo "== npm test: suite $([ $suite = 0 ] && echo ok || echo FAILED), Python $([ $python = 0 ] && echo ok || echo FAILED), engine matrix $([ $matrix = 0 ] && echo ok || echo FAILED), non-root $([ $nonroot = 0 ] && echo ok || echo FAILED), remote $([ $remote = 0 ] && echo ok || echo FAILED)"
[ $suite = 0 ] && [ $python = 0 ] && [ $matrix = 0 ] && [ $nonroot = 0 ] && [ $remote = 0 ]
