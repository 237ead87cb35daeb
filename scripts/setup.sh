#!/usr/bin/env bash
# Make this machine ready to run worksample, installing only what is missing.
# Idempotent: with nothing to do it finishes in seconds.
#   1. system packages (Debian, as root): docker.io, redis-server, debootstrap, e2fsprogs, chromium,
#      docker-compose, postgresql (tests run a throwaway server of their own; the system one is unused)
#   2. a Docker engine that answers (starts dockerd when none does)
#   3. the virtualenv .venv/ (reinstalled only when pyproject.toml changed)
#   4. the sandbox images (rebuilt only when their inputs changed)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/logs

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local pkgs=()
  command -v dockerd >/dev/null || pkgs+=(docker.io)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v debootstrap >/dev/null || pkgs+=(debootstrap)
  command -v mkfs.ext4 >/dev/null || pkgs+=(e2fsprogs)
  command -v chromium >/dev/null || pkgs+=(chromium)
  command -v docker-compose >/dev/null || pkgs+=(docker-compose)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
  python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
  echo "${pkgs[@]:-}"
}

install_packages() {
  local pkgs
  pkgs=$(missing_packages)
  [ -z "$pkgs" ] && return 0
  if [ ! -f /etc/debian_version ]; then
    die "missing: $pkgs. This setup installs them only on Debian; install the equivalents (Docker engine, redis-server, debootstrap, e2fsprogs, Chromium, PostgreSQL, python3 venv) and run again"
  fi
  if [ "$(id -u)" != 0 ]; then
    die "missing: $pkgs. Run as root, or: sudo apt-get install -y $pkgs"
  fi
  say "installing $pkgs"
  apt-get update -q >var/logs/apt.log 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs >>var/logs/apt.log 2>&1 \
    || die "apt-get install $pkgs failed; see var/logs/apt.log"
}

ensure_docker() {
  docker_ok() { timeout 5 docker info >/dev/null 2>&1 || curl -sf --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; }
  docker_ok && return 0
  [ "$(id -u)" = 0 ] || die "no Docker engine answers; start one (sudo dockerd) or set DOCKER_HOST"
  say "starting dockerd"
  if command -v systemctl >/dev/null && systemctl start docker 2>/dev/null; then :; else
    nohup setsid dockerd >var/logs/dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do docker_ok && return 0; sleep 0.5; done
  die "dockerd did not answer within 30 s; see var/logs/dockerd.log"
}

ensure_venv() {
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "python3 >= 3.11 is needed (found $(python3 --version))"
  local stamp
  stamp=$(cat pyproject.toml | sha256sum | cut -c1-16)
  if [ -x .venv/bin/python ] && [ "$(cat .venv/.stamp 2>/dev/null)" = "$stamp" ]; then return 0; fi
  say "creating .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]' >var/logs/pip.log 2>&1 \
    || die "pip install failed; see var/logs/pip.log"
  echo "$stamp" > .venv/.stamp
}

install_packages
ensure_docker
ensure_venv
if [ "${1:-}" != "--no-images" ]; then
  .venv/bin/worksample images build
fi
