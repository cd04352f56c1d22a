#!/usr/bin/env bash
# Installs and starts a real Docker engine with Compose v2 for cslr's e2e tests.
#
# Idempotent and bounded: every step is skipped when its result is already there, and every
# wait has a limit. Runs as root, non-interactively. The recipe (bookworm's docker.io, Compose
# v2 from trixie pinned low so nothing else moves) is /work/shared/docker-engine.md.
# Also the tools of the simulated workstations (test/helpers/netns.ts, test/e2e/lib/hosts.ts):
# iproute2 (ip), iptables (partitions; also a dependency of docker.io) and util-linux
# (nsenter, unshare, umount; essential, so always there).
#
# Env: DOCKERD_LOG (default /var/log/dockerd.log), ENGINE_WAIT_SECONDS (default 60).
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
ENGINE_WAIT_SECONDS="${ENGINE_WAIT_SECONDS:-60}"
APT_TIMEOUT_SECONDS="${APT_TIMEOUT_SECONDS:-600}"
export DEBIAN_FRONTEND=noninteractive
# needrestart would otherwise try to prompt on a closed terminal after each install.
export NEEDRESTART_SUSPEND=1

say() { printf 'install-docker: %s\n' "$*" >&2; }
die() { printf 'install-docker: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts dockerd)"

compose_is_v2() { docker compose version 2>/dev/null | grep -Eq 'version v?2\.'; }
engine_answers() { timeout 10 docker info >/dev/null 2>&1; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    timeout "$APT_TIMEOUT_SECONDS" apt-get update -qq || die "apt-get update failed or took over ${APT_TIMEOUT_SECONDS}s"
    apt_updated=1
  fi
}
apt_install() {
  apt_update_once
  timeout "$APT_TIMEOUT_SECONDS" apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed or took over ${APT_TIMEOUT_SECONDS}s"
}

# ---------------------------------------------------------------- fast path
# libfaketime: the election tests step the wall clock of a real service process.
harness_tools() { command -v ip >/dev/null && command -v iptables >/dev/null && command -v nsenter >/dev/null && installed libfaketime; }
if compose_is_v2 && engine_answers && command -v debootstrap >/dev/null && harness_tools; then
  say "engine up and $(docker compose version) already installed; nothing to do"
  exit 0
fi

# ---------------------------------------------------------------- engine + debootstrap
missing=()
for pkg in docker.io debootstrap iproute2 iptables libfaketime; do installed "$pkg" || missing+=("$pkg"); done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt_install "${missing[@]}"
fi

# ---------------------------------------------------------------- Compose v2 from trixie
if ! compose_is_v2; then
  # Written only when absent so an operator's own edits survive re-runs.
  if [ ! -e /etc/apt/sources.list.d/trixie.sources ]; then
    cat >/etc/apt/sources.list.d/trixie.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt_updated=0
  fi
  if [ ! -e /etc/apt/preferences.d/trixie ]; then
    # Priority 100: trixie packages are never chosen unless asked for by name (pkg/trixie).
    cat >/etc/apt/preferences.d/trixie <<'PREFS'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PREFS
    apt_updated=0
  fi
  say "installing docker-compose (v2) from trixie"
  apt_install docker-compose/trixie
  compose_is_v2 || die "docker compose still does not report v2 after installing docker-compose/trixie: $(docker compose version 2>&1 | head -1)"
fi

# ---------------------------------------------------------------- daemon
if ! engine_answers; then
  if ! pgrep -x dockerd >/dev/null; then
    say "starting dockerd (log: $DOCKERD_LOG)"
    # setsid: the daemon must outlive this script and the job that ran it.
    setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  deadline=$((SECONDS + ENGINE_WAIT_SECONDS))
  until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$DOCKERD_LOG" >&2 2>/dev/null || true
      die "Docker engine not answering 'docker info' within ${ENGINE_WAIT_SECONDS}s (dockerd log above: $DOCKERD_LOG)"
    fi
    sleep 0.5
  done
fi

say "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version)"
