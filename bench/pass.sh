#!/usr/bin/env bash
# One pass of the benches that issues 21 and 23 judge by, in one run, on a quiet machine (nothing else
# running: not CI, not tests). Each part's whole output goes to OUT/PART.log; the lines that name a goal
# are printed at the end.
#   bash bench/pass.sh [OUT]        (OUT: a directory, default a new one under /tmp)
#   PARTS="cli start" ENGINES="podman" bash bench/pass.sh    (a subset; the defaults below)
# Needs what each bench needs (bench/README.md): root for the cgroup readers, the engines provisioned by
# scripts/engines/ (their images are copied in by the benches' first start), tmux, pm2 from npm. The
# dashboard parts run on the local engine; the engine parts on each engine of ENGINES, the
# docker-in-docker ones inside their network namespace, as scripts/test-engines.sh runs their tests.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/node_modules/.bin:$PATH
out=${1:-$(mktemp -d /tmp/stigmer-bench-pass.XXXXXX)}
mkdir -p "$out"
parts=${PARTS:-dashboard cli executions shell engines cgroup oom start}
engines=${ENGINES:-docker podman docker28}

# ENGINE COMMAND...: the command with DOCKER_HOST, PATH and the network namespace of ENGINE
on_engine() {
  local engine=$1 settings prefix=()
  shift
  settings=$(bash scripts/engines/env.sh "$engine" 2>/dev/null) || { echo "bench/pass: engine $engine could not be provisioned" >&2; return 1; }
  local DOCKER_HOST='' STIGMER_ENGINE_NETNS='' STIGMER_ENGINE_BIN=''
  eval "$settings"
  [ -n "$STIGMER_ENGINE_NETNS" ] && prefix=(nsenter "--net=$STIGMER_ENGINE_NETNS" --)
  "${prefix[@]}" env PATH="${STIGMER_ENGINE_BIN:+$STIGMER_ENGINE_BIN:}$PATH" DOCKER_HOST="$DOCKER_HOST" STIGMER_TEST_ENGINE="$engine" "$@"
}

failed=0
for part in $parts; do
  echo "== $part $(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg)"
  log=$out/$part.log
  case $part in
    dashboard) npx tsx bench/dashboard.ts >"$log" 2>&1 ;;
    cli) node --import tsx bench/cliStartup.ts 15 >"$log" 2>&1 ;;
    executions) npx tsx bench/executions.ts >"$log" 2>&1 ;;
    shell) npx tsx bench/shellHandover.ts >"$log" 2>&1 ;;
    engines) npx tsx bench/engines.ts $engines >"$log" 2>&1 ;;
    cgroup | oom | start)
      for engine in $engines; do
        echo "## $engine"
        case $part in
          cgroup) on_engine "$engine" npx tsx bench/cgroupCpu.ts ;;
          oom) on_engine "$engine" npx tsx bench/oomDashboard.ts ;;
          # the image the stack runs: the cgroup part's starts have copied it into the engine
          start) on_engine "$engine" node --import tsx bench/agent-runner-image.ts --only start,memory --image stack ;;
        esac
      done >"$log" 2>&1 ;;
    *) echo "bench/pass: unknown part $part (dashboard cli executions shell engines cgroup oom start)" >&2; exit 2 ;;
  esac
  code=$?
  [ "$code" = 0 ] || { failed=1; echo "   exited $code: see $log"; }
done
echo "== done $(date +%T); logs in $out"
echo "== the figures beside their goals, under each engine's ## line (each log has the rest)"
grep -i -E '^## |(^|[^a-z])(goal|met)([^a-z]|$)' "$out"/*.log | sed "s|^$out/||" | cut -c1-260
exit "$failed"
