#!/usr/bin/env bash
# A fresh-machine CI rehearsal (a developer tool; CI never calls it): a clean clone's `.ci/run`, as root,
# CI=true, no stdin, on a machine that has never run it. The machine is a Debian 12 (bookworm) root file
# system made with debootstrap (cached in $STIGMER_CI_FRESH_CACHE, default /var/cache/stigmer-ci-fresh)
# holding what the fresh CI machine has: python3, make, g++, git, curl, ca-certificates, openssh-client,
# and this host's Node 20 + npm 11 (copied from /usr: the same files, not a rebuild). No Docker, no images,
# no npm cache, no engines' state.
#
#   scripts/ci-fresh.sh [SOURCE [REF]]   SOURCE: a git repository (default: this checkout), REF (default HEAD)
#   STIGMER_CI_FRESH_UNTIL=REGEX          stop at the first line of output matching it (a partial rehearsal,
#                                         e.g. '== TypeScript tests' for the provisioning, build and image)
#
# It runs in a container of its own on the host's Docker engine, in its own namespaces: its own mount, pid,
# network (Docker's default bridge, NEVER the host's network), uts, ipc and cgroup namespaces, with the
# capabilities scripts/engines/dind.sh gives docker in docker here (`--privileged` fails: the bounding set
# lacks CAP_SYS_RESOURCE). Its cgroup tree is its own (a private cgroup namespace, made writable inside),
# so its dockerd, Podman, nested docker in docker and the remote test host's sshd all run inside it as on
# a machine of their own. The engines' state (/var/lib/docker, /var/lib/containers,
# /var/lib/stigmer-engines) is on directories of the host's disk (a storage driver cannot keep it on the
# container's overlay), under one work directory removed at the end with the container and its image.
# The host's engines, images, containers and networks are left as they were.
#
# Prints every line with the time since the start ([mm:ss]) and, at the end, the wall time per phase
# (npm ci, provisioning, build, image, the TypeScript suite with the Python tests beside it, the engine
# matrix beside the non-root part then the remote engine, what of those ends after the matrix) and in
# all; the whole output is kept in $STIGMER_CI_FRESH_CACHE/last-run.log.
# What differs from a real fresh machine: the kernel and the CPUs are the host's (shared with whatever
# else runs here: note the load average printed at the start and the end), the network is the host's
# bridge with its NAT (and the CA certificates this host trusts beyond Debian's, for a network that
# intercepts TLS, with the variables that point this host's processes at them), and the ulimits are those
# the host's engine gives its containers.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "ci-fresh: run me as root (I run debootstrap and a container with docker in docker's capabilities)" >&2
  exit 1
fi
source=${1:-$PWD}
ref=${2:-HEAD}
cache=${STIGMER_CI_FRESH_CACHE:-/var/cache/stigmer-ci-fresh}
mirror=${STIGMER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=ca-certificates,curl,git,python3,make,g++,procps,iproute2,xz-utils,openssh-client
for tool in debootstrap docker git; do
  command -v "$tool" >/dev/null 2>&1 || { echo "ci-fresh: $tool is missing here (apt-get install $tool)" >&2; exit 1; }
done
node_version=$(/usr/bin/node -v 2>/dev/null) || { echo "ci-fresh: no /usr/bin/node on this host to copy (install Node 20: the fresh machine has it)" >&2; exit 1; }
npm_version=$(/usr/bin/npm -v 2>/dev/null) || { echo "ci-fresh: no /usr/bin/npm on this host to copy (npm install -g npm@11)" >&2; exit 1; }

mkdir -p "$cache"
key=$(printf '%s\n' 2 "$packages" "$mirror" "$node_version" "$npm_version" | sha256sum | cut -c1-12)
rootfs_tar=$cache/bookworm-$key.tar
run_id=$$
name=stigmer-ci-fresh-$run_id
image=stigmer-ci-fresh/bookworm:$key-$run_id
work=$(mktemp -d /var/tmp/stigmer-ci-fresh.XXXXXX)
log=$cache/last-run.log

cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  # (the engine may still be letting go of the container just removed)
  for _ in 1 2 3 4 5; do docker image rm "$image" >/dev/null 2>&1 && break; docker image inspect "$image" >/dev/null 2>&1 || break; sleep 1; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SECONDS=0
stamp() { printf '[%02d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$1"; }

# --- the machine: Debian 12 and the host's Node 20 + npm 11 (cached) -----------------------------------
if [ ! -f "$rootfs_tar" ]; then
  stamp "ci-fresh: making the Debian 12 root file system with debootstrap (cached in $rootfs_tar)"
  rootfs=$work/rootfs
  debootstrap --include="$packages" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    echo "ci-fresh: debootstrap failed; last lines:" >&2; tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # the host's Node and npm, where the nodejs package and `npm install -g npm` put them
  tar -C / -cf - usr/bin/node usr/bin/npm usr/bin/npx usr/lib/node_modules usr/include/node | tar -C "$rootfs" -xf -
  [ -f /usr/etc/npmrc ] && mkdir -p "$rootfs/usr/etc" && cp /usr/etc/npmrc "$rootfs/usr/etc/npmrc"
  # the sources a Debian 12 machine has (bookworm, its updates and security)
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/root/.npm
  tar -C "$rootfs" -cf "$rootfs_tar.tmp" . && mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$rootfs"
fi
docker import -c 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$rootfs_tar" "$image" >/dev/null

# --- a clean clone ---------------------------------------------------------------------------------------
git clone --quiet --no-local "$source" "$work/stigmer"
git -C "$work/stigmer" checkout --quiet --detach "$ref"
commit=$(git -C "$work/stigmer" log -1 --format='%h %s' | cut -c1-100)
mkdir -p "$work/docker" "$work/containers" "$work/engines" "$work/ca"

# This host's network may intercept TLS with a CA of its own, which the host trusts (its bundle holds more
# certificates than Debian's): the fresh machine, on the same network, is given those too (as
# /usr/local/share/ca-certificates, so update-ca-certificates keeps them), or npm ci cannot fetch a thing.
tar -xOf "$rootfs_tar" ./etc/ssl/certs/ca-certificates.crt >"$work/debian-bundle.crt"
python3 - /etc/ssl/certs/ca-certificates.crt "$work/debian-bundle.crt" "$work/ca" <<'PY'
import re, sys
certs = lambda path: re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", open(path).read(), re.S)
known = set(certs(sys.argv[2]))
extra = [c for c in certs(sys.argv[1]) if c not in known]
for n, cert in enumerate(extra):
    open(f"{sys.argv[3]}/host-network-{n}.crt", "w").write(cert + "\n")
print(f"ci-fresh: {len(extra)} CA certificate(s) of this host's network beside Debian's", file=sys.stderr)
PY

stamp "ci-fresh: $commit on Debian 12 + Node $node_version + npm $npm_version (load average $(cut -d' ' -f1-3 /proc/loadavg))"
# In the container: its cgroup namespace's tree made writable (Docker mounts it read-only without
# --privileged), then .ci/run from the clone as root, CI=true, stdin /dev/null.
inside='set -e
for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d"; done
update-ca-certificates >/dev/null
cd /root/stigmer
echo "ci-fresh: .ci/run starts"
exec .ci/run </dev/null'
# This host's processes get the CA bundle through these variables (Node's fetch and npm under Node 24 read
# no system bundle by themselves: without NODE_EXTRA_CA_CERTS the tests' `npm install -g` retries for
# minutes, then fails SELF_SIGNED_CERT_IN_CHAIN); the machine on this network gets the same.
ca_env=()
for var in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE GIT_SSL_CAINFO PIP_CERT; do
  [ -n "${!var:-}" ] && ca_env+=(-e "$var=${!var}")
done
SECONDS=0
set +e
docker run --name "$name" --hostname stigmer-ci-fresh "${ca_env[@]}" \
  --cap-add ALL --cap-drop SYS_RESOURCE --cgroupns private \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
  -v "$work/stigmer:/root/stigmer" -v "$work/docker:/var/lib/docker" -v "$work/containers:/var/lib/containers" \
  -v "$work/engines:/var/lib/stigmer-engines" -v "$work/ca:/usr/local/share/ca-certificates/host-network:ro" --tmpfs /run \
  "$image" bash -c "$inside" </dev/null 2>&1 |
  while IFS= read -r line; do
    stamp "$line"
    # STIGMER_CI_FRESH_UNTIL=REGEX: a partial rehearsal, stopped at the first line matching it
    if [ -n "${STIGMER_CI_FRESH_UNTIL:-}" ] && [[ $line =~ $STIGMER_CI_FRESH_UNTIL ]]; then
      stamp "ci-fresh: stopped at this line (STIGMER_CI_FRESH_UNTIL)"
      docker rm -f "$name" >/dev/null 2>&1
      break
    fi
  done | tee "$log"
code=${PIPESTATUS[0]}
set -e
total=$SECONDS

# --- the wall time per phase, from the markers in the output ---------------------------------------------
echo
echo "== ci-fresh: $commit: .ci/run exited $code after $((total / 60)) min $((total % 60)) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v total="$total" '
  function secs(s) { split(substr(s, 2, 5), t, ":"); return t[1] * 60 + t[2] }
  function mark(name) { if (n && names[n] == name) return; n++; names[n] = name; at[n] = secs($1) }
  / ci-fresh: \.ci\/run starts/ { mark("npm ci (and what .ci/run runs beside it)") }
  / added [0-9]+ packages in / { mark("provisioning left after npm ci") }
  / > stigmer@[^ ]* test$/ { mark("provisioning in npm test (engine, base image, apt)") }
  / == build / { mark("build, type check, lint") }
  / == agent-runner image/ { mark("agent-runner image") }
  / == TypeScript tests/ { mark("TypeScript suite (local Docker), Python beside it") }
  / ℹ duration_ms / && !suite_done && names[n] ~ /^TypeScript/ { suite_done = 1; mark("after the suite: Python, the engine images beside it") }
  / == beside the engine matrix, one after the other: / { mark("engine matrix beside non-root, then remote") }
  / == after the matrix: / { mark("after the matrix: the rest of non-root, remote") }
  / == phases / || / == npm test: / { mark("end") }
  END {
    for (i = 1; i <= n; i++) {
      if (names[i] == "end") break
      end = (i < n) ? at[i + 1] : total
      printf "  %-52s %3d min %02d s\n", names[i], (end - at[i]) / 60, (end - at[i]) % 60
    }
    printf "  %-52s %3d min %02d s\n", "total", total / 60, total % 60
  }' "$log"
grep -E '^\[[0-9:]+\] == npm test: ' "$log" | tail -n 1 || true
exit "$code"
