#!/usr/bin/env bash
# Installs, from Debian's packages, every real program that Mamori's tests talk to.
#
# Idempotent: packages already installed are skipped, and when nothing is missing the
# script neither needs root nor refreshes the package lists, so a second run takes about a
# second. A package that this Debian release does not carry is reported and skipped (still
# exit 0): the tests that need it skip themselves with a reason. A package that exists but
# fails to install makes the script exit 1.
#
# Installing must not leave daemons behind on the ports the tests use (80, 179, 5060 ...):
# service starts are refused through policy-rc.d while apt runs, and a service of a package
# installed here that came up anyway is stopped and disabled (not started at boot either).
#
# Usage: sudo scripts/install-peers.sh        (MAMORI_PEERS_EXTRA="pkg ..." adds packages)
set -euo pipefail

# Kamailio's modules are split over several packages:
#   kamailio               core + tm, sl, rr, dialog, htable, jsonrpcs, xhttp, async, mqueue, rtimer,
#                          siptrace, pike, auth, auth_db ...
#   kamailio-utils-modules http_client (libcurl)
#   kamailio-extra-modules jansson (Debian builds no http_async_client; deploy/kamailio does without)
#   kamailio-json-modules  json, jsonrpcc
PACKAGES=(
  kamailio
  kamailio-utils-modules
  kamailio-extra-modules
  kamailio-json-modules
  sip-tester # sipp
  sipvicious # sipvicious_svmap, sipvicious_svwar, sipvicious_svcrack
  softflowd
  nfdump
  exabgp
  bird2
  gobgpd
  nftables
  fastnetmon
  nginx
  wrk
  slowhttptest
  tcpdump
  iproute2
  iputils-ping  # ICMP floods inside the flow guard's test namespaces
  chromium # the operator console's browser tests (driven by playwright-core, never a downloaded browser)
  chromium-driver
  fonts-ipafont-gothic # Japanese text in the console's screenshots
  pmacct # pmacctd's sfprobe plugin: the sFlow v5 exporter of bench/flow-detect-latency.ts (Debian has no hsflowd)
)
# The services these packages ship (service -> package); none may stay running.
declare -A SERVICE_PACKAGE=(
  [kamailio]=kamailio
  [nginx]=nginx
  [bird]=bird2
  [exabgp]=exabgp
  [gobgpd]=gobgpd
  [fastnetmon]=fastnetmon
  [softflowd]=softflowd
  [nfdump]=nfdump
  # sfacctd would hold 6343/udp, the sFlow port; none of them is wanted running.
  [nfacctd]=pmacct
  [sfacctd]=pmacct
  [pmacctd]=pmacct
  [uacctd]=pmacct
)
# Ports worth a warning if something listens there after the install.
WATCHED_PORTS=(80 179 5060)

if [[ -n "${MAMORI_PEERS_EXTRA:-}" ]]; then
  read -r -a extra <<<"$MAMORI_PEERS_EXTRA"
  PACKAGES+=("${extra[@]}")
fi

log() { printf 'install-peers: %s\n' "$*"; }
warn() { printf 'install-peers: WARNING: %s\n' "$*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  printf 'install-peers: this script needs a Debian-based system (apt-get, dpkg-query)\n' >&2
  exit 1
fi

started_at=$(date +%s)

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)" == ii* ]]
}
contains() { # contains WORD LIST...
  local word=$1 item
  shift
  for item in "$@"; do [[ "$item" == "$word" ]] && return 0; done
  return 1
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} peer packages already installed; nothing to do"
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
  printf 'install-peers: missing: %s\n' "${missing[*]}" >&2
  printf 'install-peers: installing needs root (apt-get install); run: sudo %s\n' "$0" >&2
  exit 1
fi
log "to install: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Refuse service starts while we install, unless the host already does (containers usually do).
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
  if [[ $own_policy -eq 1 ]]; then rm -f "$policy"; fi
}
trap cleanup EXIT
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# temporary, from scripts/install-peers.sh: no service starts during install\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  own_policy=1
fi

systemd_running() {
  command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]
}
# Without systemd, init scripts' "status" is not to be trusted (some answer 0 when stopped):
# a service runs when one of its pid files names a live process.
pidfile_alive() {
  local svc=$1 f pid
  for f in "/run/$svc.pid" "/run/$svc"/*.pid "/var/run/$svc.pid"; do
    [[ -r "$f" ]] || continue
    pid=$(head -n1 "$f" 2>/dev/null | tr -dc '0-9')
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

log "apt-get update"
apt-get update -q >/dev/null

available=()
unavailable=()
for pkg in "${missing[@]}"; do
  candidate=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
    unavailable+=("$pkg")
  else
    available+=("$pkg")
  fi
done
release=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-this release}")
for pkg in "${unavailable[@]}"; do
  warn "package '$pkg' is not available in $release; skipping it"
done

if [[ ${#available[@]} -gt 0 ]]; then
  log "apt-get install ${available[*]}"
  if ! apt-get install "${APT_OPTS[@]}" "${available[@]}"; then
    # One bad package must not keep the others out: retry them one by one.
    warn "installing all at once failed; retrying package by package"
    for pkg in "${available[@]}"; do
      is_installed "$pkg" || apt-get install "${APT_OPTS[@]}" "$pkg" || true
    done
  fi
fi

# A service of a package installed just now: stop it if it came up anyway, and keep it from
# starting at boot. Services of packages that were already there are the host's business.
for svc in "${!SERVICE_PACKAGE[@]}"; do
  contains "${SERVICE_PACKAGE[$svc]}" "${available[@]}" || continue
  if systemd_running; then
    if systemctl is-active --quiet "$svc" 2>/dev/null; then
      log "stopping service $svc, started by its package"
      systemctl stop "$svc" || warn "could not stop $svc"
    fi
    systemctl disable --quiet "$svc" >/dev/null 2>&1 || true
  elif [[ -x "/etc/init.d/$svc" ]] && pidfile_alive "$svc"; then
    log "stopping service $svc, started by its package"
    "/etc/init.d/$svc" stop || warn "could not stop $svc"
  fi
done

if command -v ss >/dev/null 2>&1; then
  for port in "${WATCHED_PORTS[@]}"; do
    busy=$(ss -Hlntup "( sport = :$port )" 2>/dev/null || true)
    if [[ -n "$busy" ]]; then
      warn "port $port is in use (tests pick free ports, but check it is meant to be): $busy"
    fi
  done
fi

failed=()
for pkg in "${available[@]}"; do
  is_installed "$pkg" || failed+=("$pkg")
done
elapsed=$(($(date +%s) - started_at))
if [[ ${#unavailable[@]} -gt 0 ]]; then
  warn "not in $release, tests that need them will skip: ${unavailable[*]}"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  warn "failed to install: ${failed[*]} (after ${elapsed}s)"
  exit 1
fi
log "done in ${elapsed}s"
