#!/usr/bin/env bash
# Build the `base` sandbox root filesystem without a registry: debootstrap a minimal
# Debian into a temporary folder and write it as a tar file (then `docker import`ed).
# Usage: build-offline.sh OUT.tar [SUITE]   (needs root; installs debootstrap if missing)
set -euo pipefail
out=${1:?usage: build-offline.sh OUT.tar [SUITE]}
suite=${2:-bookworm}

if [ "$(id -u)" != "0" ]; then
  echo "building the base image offline needs root (debootstrap); run as root or let a registry answer." >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq debootstrap >/dev/null
fi

root=$(mktemp -d /tmp/agentbench-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase "$suite" "$root"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar --numeric-owner -C "$root" -cf "$out" .
