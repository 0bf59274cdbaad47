#!/usr/bin/env bash
# The README's test command (after `npm install`): provisions what the tests need, then runs every test.
#   1. the Debian packages the tests need, in one apt call, and a Docker engine (Debian's docker.io, started
#      in the background when none answers): scripts/provision-test.sh
#   2. the base image debian:trixie-slim (pulled, or made with debootstrap where no registry is reachable)
#   3. the TypeScript build (strict type check), the same check over tests and benchmarks, and the
#      formatter and linter (npm run lint)
#   4. the agent-runner image, and its Python tests in the Dockerfile's test stage (pytest)
#   5. the TypeScript tests: unit and component, integration against the real engine, end-to-end in tmux
#   6. as root: the engine-dependent tests on Podman 4.3 (scripts/test-engines.sh), a part of the
#      suite as a non-root user in the docker group (scripts/test-nonroot.sh), and part of it against a
#      remote engine over ssh:// and tcp+TLS (scripts/test-remote.sh)
# Node 24 comes from the `node` devDependency, first on the PATH of npm scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "test: Node $(node -v) is end-of-life; run through npm (npm test) so node_modules/.bin/node (Node 24) is used" >&2
  exit 1
fi

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
suite=0
node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter=spec "${unit_test_files[@]}" "${engine_test_files[@]}" || suite=$?

# The engine matrix: the engine-dependent tests on the other engines (scripts/test-engines.sh), and at
# the same time a part of the suite as a non-root user in the docker group (scripts/test-nonroot.sh, on
# the local Docker: another engine, other homes and ports; its output is printed whole after). As root
# only (they install and start engines, and create the user). STIGMER_TEST_ENGINES picks the engines
# (default: Podman 4.3 and Docker 28.5 with the 1.44 API floor, side by side: 8 min 13 s together here
# against ~5 + ~8 one after the other; `all` adds Docker 26.1);
# STIGMER_TEST_ENGINES=none and STIGMER_TEST_NONROOT=0 skip either part.
matrix=0
nonroot=0
remote=0
if [ "$(id -u)" = 0 ]; then
  nonroot_pid=
  # both parts would create the group that the engines' sockets are given to: made once, before either
  getent group stigmer-engines >/dev/null || groupadd --system stigmer-engines
  if [ "${STIGMER_TEST_NONROOT:-1}" != 0 ]; then
    nonroot_log=$(mktemp /tmp/stigmer-nonroot.XXXXXX)
    echo "== as a non-root user in the docker group (beside the engine matrix; log: $nonroot_log)"
    bash scripts/test-nonroot.sh docker </dev/null >"$nonroot_log" 2>&1 &
    nonroot_pid=$!
  fi
  if [ -n "$images_pid" ]; then
    # a failed build is told here; dind.sh and remote.sh try again (and fail with its reason) below
    wait "$images_pid" || echo "test: building the engines' images failed; the engines below build what is missing"
    [ -s "$images_log" ] && { echo "== engine images (built beside the suite)"; cat "$images_log"; }
  fi
  if [ "$engines" != none ]; then
    echo "== engine matrix: $engines"
    # shellcheck disable=SC2086
    STIGMER_ENGINES_PARALLEL=${STIGMER_ENGINES_PARALLEL:-1} bash scripts/test-engines.sh $engines || matrix=$?
  fi
  if [ -n "$nonroot_pid" ]; then
    wait "$nonroot_pid" || nonroot=$?
    echo "== as a non-root user in the docker group: its output"
    cat "$nonroot_log"
  fi
  # a remote engine (Docker 28.5 in its own namespaces) over ssh:// and tcp+TLS; STIGMER_TEST_REMOTE=0 skips it
  if [ "${STIGMER_TEST_REMOTE:-1}" != 0 ]; then
    echo "== remote engine over ssh:// and tcp+TLS"
    bash scripts/test-remote.sh || remote=$?
  fi
fi

echo "== npm test: suite $([ $suite = 0 ] && echo ok || echo FAILED), engine matrix $([ $matrix = 0 ] && echo ok || echo FAILED), non-root $([ $nonroot = 0 ] && echo ok || echo FAILED), remote $([ $remote = 0 ] && echo ok || echo FAILED)"
[ $suite = 0 ] && [ $matrix = 0 ] && [ $nonroot = 0 ] && [ $remote = 0 ]
