#!/usr/bin/env bash
# Set up edgecam in ./.venv on Raspberry Pi OS trixie or bookworm, or Debian 13 or 12 (Python 3.11
# to 3.13); safe to run again.
#   scripts/setup.sh          the service (and the built-in demo)
#   scripts/setup.sh --test   also what the test suite needs (mosquitto, chromium, pytest, ruff, mypy)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

on_pi=0
grep -qs "Raspberry Pi" /proc/device-tree/model && on_pi=1

packages=()
command -v python3 >/dev/null || packages+=(python3)
python3 -c "import venv, ensurepip" 2>/dev/null || packages+=(python3-venv)
[ -d /usr/share/zoneinfo ] || packages+=(tzdata)   # schedules use the system's time zones
if [ "$want_test" = 1 ]; then
  # The tests start a real broker, make TLS certificates and verify the systemd unit.
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || packages+=(mosquitto)
  command -v openssl >/dev/null || packages+=(openssl)
  command -v systemd-analyze >/dev/null || packages+=(systemd)
  # The web page is tested in Debian's headless Chromium, driven through chromedriver.
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
  # axe-core (the accessibility checks the browser tests inject) comes from npm.
  command -v npm >/dev/null || packages+=(npm)
  # The real-systemd test boots systemd as PID 1 in a container.
  command -v systemd-nspawn >/dev/null || packages+=(systemd-container)
fi
[ "$on_pi" = 1 ] && ! python3 -c "import picamera2" 2>/dev/null && packages+=(python3-picamera2)
if [ "${#packages[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${packages[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi

if ! python3 -c "import sys; sys.exit(sys.version_info < (3, 11))"; then
  echo "setup: edgecam needs Python 3.11 or newer; this python3 is $(python3 -V 2>&1):" \
    "use Raspberry Pi OS trixie or bookworm, or Debian 13 or 12" >&2
  exit 1
fi
python3 -c "import sys; sys.exit(sys.version_info[:2] > (3, 13))" ||
  echo "setup: warning: $(python3 -V 2>&1) is newer than the 3.13 edgecam is tested on" >&2
if [ ! -x .venv/bin/python ]; then
  # On a Pi the camera stack (picamera2, libcamera) comes from Debian, so the venv must see it.
  if [ "$on_pi" = 1 ]; then python3 -m venv --system-site-packages .venv; else python3 -m venv .venv; fi
fi
.venv/bin/python -m pip install -q --upgrade pip
extras=""
[ "$want_test" = 1 ] && extras="[test]"
.venv/bin/python -m pip install -q -e ".${extras}"
if [ "$want_test" = 1 ]; then
  # Pinned by tests/web/axe/package-lock.json; only the tests use it, nothing is shipped.
  npm ci --prefix tests/web/axe --no-audit --no-fund --silent
fi
echo "setup: done; run the demo with: .venv/bin/edgecam run"
