#!/usr/bin/env bash
# Makes sure the Dockerfile's base image (debian:trixie-slim) exists in the local engine.
# On a machine that reaches Docker Hub it is simply pulled. Where no registry is reachable it is
# made from Debian's own mirror with debootstrap (minbase), trimmed like the official slim image
# (no apt lists, docs, man pages or locales) and loaded with `docker import`.
set -euo pipefail

image=${1:-debian:trixie-slim}
suite=${STIGMER_BASE_SUITE:-trixie}
mirror=${STIGMER_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi

if [ "${STIGMER_BASE_NO_PULL:-}" != 1 ] && timeout 60 docker pull "$image" >/dev/null 2>&1; then
  echo "base-image: pulled $image"
  exit 0
fi

echo "base-image: $image cannot be pulled here; building it with debootstrap from $mirror (about 75 s)"
if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "base-image: debootstrap is missing; install it (sudo apt-get install debootstrap) or pull $image" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

rootfs=$(mktemp -d /tmp/stigmer-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  echo "base-image: debootstrap failed; last lines:" >&2; tail -n 20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

# Trim as debian:*-slim does; keep the copyright files' directories so dpkg stays consistent.
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/usr/share/doc/*/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
       "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/lintian "$rootfs"/var/log/*.log \
       "$rootfs"/var/cache/debconf/*-old "$rootfs"/tmp/* 2>/dev/null || true
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' - "$image" >/dev/null
echo "base-image: made $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
