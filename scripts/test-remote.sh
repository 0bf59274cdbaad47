#!/usr/bin/env bash
# The stack on a remote engine (issue 12; docs/remote.md): test files against the remote test host
# (scripts/engines/remote.sh: Docker 28.5 in its own mount, pid and network namespaces, reached only
# through 127.0.0.1 ports), once over ssh:// and once over tcp+TLS, then one summary. As root.
#   ssh  DOCKER_HOST=ssh://stigmer-remote-test (the system ssh, ~/.ssh/config's Host block)
#   tls  DOCKER_HOST=tcp://127.0.0.1:PORT with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH
# The fake LLM on this machine's 127.0.0.1 reaches the remote's containers through `ssh -R`
# (test/helpers/remoteEngine.ts). STIGMER_REMOTE_ENDPOINTS picks the endpoints (default: "ssh tls"),
# STIGMER_REMOTE_TEST_FILES the files for both (space-separated; default below), and
# STIGMER_REMOTE_SSH_ONLY_FILES the files run over ssh only.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"  # Node 24 (the `node` devDependency), as npm scripts have it

if [ "$(id -u)" != 0 ]; then
  echo "test-remote: run me as root (I provision the remote test host)" >&2
  exit 1
fi
read -r -a endpoints <<<"${STIGMER_REMOTE_ENDPOINTS:-ssh tls}"
# Both endpoints: the lifecycle, logs, shell, run and dashboard files (issue 12's list), the network
# policy's (its probes of this machine's services and namespaces skip there: the box has a network of its
# own) and the budgets (issue 20); over ssh also the ways of connecting and their errors (remoteEndpoints
# tests the TLS ones too). The two endpoints run at the same time (each its own homes, ports, tmux servers
# and ssh -R forwards on the one remote engine), so the remote part costs about the longer of the two
# instead of their sum; STIGMER_REMOTE_SEQUENTIAL=1 runs them one after the other.
read -r -a files <<<"${STIGMER_REMOTE_TEST_FILES-test/integration/lifecycle.test.ts test/integration/logs.test.ts test/integration/shell.test.ts test/integration/run.test.ts test/integration/networkPolicy.test.ts test/integration/budgets.test.ts test/e2e/dashboard.test.ts}"
read -r -a ssh_files <<<"${STIGMER_REMOTE_SSH_ONLY_FILES-test/integration/remoteEndpoints.test.ts}"
logdir=${STIGMER_REMOTE_LOG_DIR:-$(mktemp -d /tmp/stigmer-remote.XXXXXX)}
mkdir -p "$logdir"

started=$(date +%s)
settings=$(bash scripts/engines/remote.sh) || { echo "test-remote: provisioning the remote test host failed" >&2; exit 1; }
eval "$(grep '^STIGMER_' <<<"$settings")"
echo "== remote test host ready in $(( $(date +%s) - started ))s"

source scripts/test-summary.sh

# one endpoint's files; its output goes to $logdir/ENDPOINT.log, its exit code and seconds beside it
run_endpoint() {
  local endpoint=$1 log=$logdir/$1.log t0 code
  local run_files=("${files[@]}") engine_env
  case "$endpoint" in
    ssh) engine_env=(DOCKER_HOST="$STIGMER_REMOTE_SSH"); run_files+=("${ssh_files[@]}") ;;
    tls) engine_env=(DOCKER_HOST="$STIGMER_REMOTE_TLS" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$STIGMER_REMOTE_CERT_PATH") ;;
  esac
  t0=$(date +%s)
  env -u DOCKER_CONTEXT PATH="$STIGMER_ENGINE_BIN:$PATH" "${engine_env[@]}" \
    STIGMER_TEST_REMOTE_ENDPOINT="$endpoint" STIGMER_TEST_REMOTE_SSH_HOST="${STIGMER_REMOTE_SSH#ssh://}" STIGMER_TEST_ENGINE="remote-$endpoint" \
    STIGMER_REMOTE_SSH="$STIGMER_REMOTE_SSH" STIGMER_REMOTE_TLS="$STIGMER_REMOTE_TLS" STIGMER_REMOTE_CERT_PATH="$STIGMER_REMOTE_CERT_PATH" \
    STIGMER_REMOTE_CONTEXT_TLS="$STIGMER_REMOTE_CONTEXT_TLS" NO_COLOR=1 CI="${CI:-}" \
    STIGMER_DEV_IMAGE_REPOSITORY="${STIGMER_DEV_IMAGE_REPOSITORY:-}" \
    node --import tsx --test --test-concurrency="${STIGMER_TEST_CONCURRENCY:-2}" --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=./scripts/test-file-times.mjs --test-reporter-destination=stdout "${run_files[@]}" </dev/null >"$log" 2>&1
  code=$?
  echo "$code $(( $(date +%s) - t0 ))" >"$log.status"
}

for endpoint in "${endpoints[@]}"; do
  case "$endpoint" in
    ssh|tls) ;;
    *) echo "test-remote: unknown endpoint $endpoint (ssh, tls)" >&2; exit 2 ;;
  esac
done
pids=()
for endpoint in "${endpoints[@]}"; do
  echo "== remote engine over $endpoint (log: $logdir/$endpoint.log)"
  if [ "${STIGMER_REMOTE_SEQUENTIAL:-0}" = 1 ]; then
    run_endpoint "$endpoint"
  else
    run_endpoint "$endpoint" &
    pids+=("$!")
  fi
done
[ "${#pids[@]}" -gt 0 ] && wait "${pids[@]}"

declare -A result
failed=0
for endpoint in "${endpoints[@]}"; do
  log=$logdir/$endpoint.log
  echo "== remote engine over $endpoint: its output"
  cat "$log"
  read -r code seconds <"$log.status" 2>/dev/null || { code=1; seconds=0; }
  [ "$code" = 0 ] || failed=1
  result[$endpoint]="$(summary_line "$endpoint" 4 "$code" "$seconds" "$log" "not run")"
done

echo
echo "== remote engines (logs in $logdir; $(( $(date +%s) - started ))s in all)"
for endpoint in "${endpoints[@]}"; do echo "  ${result[$endpoint]}"; done
exit "$failed"
