#!/bin/sh
# Runs pytest as the service runs: under the sandbox launcher (root with CHOWN, SETUID and SETGID), which
# drops pytest to uid 10001 and runs the tests' commands under the sandbox's own uids. Used by the
# Dockerfile's test stage and by scripts/test-python.sh.
set -e
STIGMER_WORKSPACE=${STIGMER_WORKSPACE:-/tmp/stigmer-workspace}
export STIGMER_WORKSPACE
mkdir -p -m 0711 "$STIGMER_WORKSPACE" && chown 10001:10001 "$STIGMER_WORKSPACE"
exec python3 -m stigmer_agent_runner.sandbox_launcher python3 -m pytest -q -p no:cacheprovider tests "$@"
