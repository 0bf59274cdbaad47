#!/usr/bin/env bash
# Part of the suite as a user who is not root (CI runs as root): a user in the `docker` group, and in
# `stigmer-engines`, the group scripts/engines/*.sh give the other engines' sockets to, runs start,
# status, stop, logs, shell, run and the dashboard against each engine named (default: docker).
# Idempotent, as root: creates the user (STIGMER_NONROOT_USER, default stigmer-ci) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

user=${STIGMER_NONROOT_USER:-stigmer-ci}
if [ "$(id -u)" != 0 ]; then
  echo "test-nonroot: run me as root (I create the user $user and run the tests as that user)" >&2
  exit 1
fi
getent group docker >/dev/null || groupadd --system docker
getent group stigmer-engines >/dev/null || groupadd --system stigmer-engines
if ! id -u "$user" >/dev/null 2>&1; then
  echo "test-nonroot: creating the user $user (groups docker, stigmer-engines)"
  useradd --create-home --shell /bin/bash --groups docker,stigmer-engines "$user"
fi
usermod -aG docker,stigmer-engines "$user"

# The user runs the tests from the checkout when it may read it (sources, node_modules, dist), as any
# user's checkout; else (a clone under /root) from a copy it owns.
as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups "$@"; }
# Absolute paths: a relative one is found from the working directory without searching its parents, so a
# checkout under /root (mode 700) passed this check, then node failed EACCES on the test files' full paths.
if ! as_user test -r "$PWD/package.json" -a -x "$PWD/node_modules/.bin/node" -a -r "$PWD/dist/cli.js" -a -r "$PWD/node_modules/tsx/package.json"; then
  copy=/var/tmp/stigmer-nonroot-checkout
  echo "test-nonroot: $user cannot read $PWD; running from a copy in $copy"
  rm -rf "$copy"
  mkdir -p "$copy"
  tar -C . --exclude=./.git -cf - . | tar -C "$copy" -xf -
  chown -R "$user:" "$copy"
  cd "$copy"
fi

engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(docker)
export STIGMER_ENGINE_TEST_USER=$user
export STIGMER_ENGINE_TEST_FILES=${STIGMER_NONROOT_TEST_FILES:-"test/integration/lifecycle.test.ts test/integration/logs.test.ts test/integration/shell.test.ts test/integration/run.test.ts test/e2e/dashboard.test.ts"}
exec bash scripts/test-engines.sh "${engines[@]}"
