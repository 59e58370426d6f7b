#!/usr/bin/env bash
# The test suite under Debian 13's Python 3.13 (the base of Raspberry Pi OS trixie), as root:
#   scripts/test-trixie.sh [PYTEST_ARGS...]          (scripts/test.sh runs it after the first pass)
#   scripts/test-trixie.sh --prepare                  only build the root and install the venv
#                                                     (scripts/test.sh does it during the first pass)
# In a Debian 13 root of this machine's architecture, built once and cached outside the clone by
# scripts/debian-root.sh (rebuilt when missing or when its package list changes), with this clone
# bound at /src and a venv of its own in the root (/opt/edgecam-venv). The tests that need this
# machine itself are deselected by marker (pyproject.toml): `nspawn` (boots this machine's /usr)
# and `browser` (Debian's Chromium); they run in the first pass. Every process started inside (the
# fixtures' brokers, edgecam services) ends with the pass: it runs in its own PID namespace.
# Exits with pytest's status.
set -euo pipefail
cd "$(dirname "$0")/.."
prepare=0
if [ "${1:-}" = "--prepare" ]; then prepare=1; shift; fi
repo=$(pwd)
start=$(date +%s)
if [ "$(id -u)" -ne 0 ]; then
  echo "test-trixie: the Debian 13 pass builds and enters a Debian root: run it as root" >&2
  echo "test-trixie: (or leave it out: EDGECAM_TEST_TRIXIE=0 bash scripts/test.sh)" >&2
  exit 1
fi
# What the tests start or call: the broker, openssl for the test CA, systemd-analyze (and the
# unit's /bin/kill, from procps) to verify the unit.
root=$(bash scripts/debian-root.sh "$(dpkg --print-architecture)" \
  python3 python3-venv mosquitto openssl ca-certificates tzdata systemd procps)
# pip inside reaches the package index as it does here: this machine's pip.conf, CA bundle, DNS
# and those PIP_* settings that mean the same inside (no path missing there).
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp /etc/resolv.conf "$root/etc/resolv.conf"
envs=()
while IFS='=' read -r name value; do
  case "$value" in /* | file:*) [ -e "$root${value#file://}" ] || continue ;; esac
  envs+=(--env "$name=$value")
done < <(env | grep '^PIP_' || true)
echo "test-trixie: root $root ready ($(( $(date +%s) - start ))s)"

status=0
# shellcheck disable=SC2016
bash scripts/in-root.sh "$root" --bind "$repo:/src" "${envs[@]}" -- bash -c '
  set -e
  prepare=$1
  shift
  venv=/opt/edgecam-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q -e "/src[test]"
  echo "test-trixie: $("$venv/bin/python" --version) in $(. /etc/os-release && echo "$PRETTY_NAME")"
  [ "$prepare" = 1 ] && exit 0
  cd /src
  exec "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not nspawn and not browser" "$@"
' test-trixie "$prepare" "$@" || status=$?
if [ "$prepare" = 1 ]; then
  echo "test-trixie: prepared (exit $status) in $(( $(date +%s) - start ))s"
else
  echo "test-trixie: Python 3.13 pass exit $status in $(( $(date +%s) - start ))s"
fi
exit "$status"
