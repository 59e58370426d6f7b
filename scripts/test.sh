#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite: lint, types, tests; then the tests
# again under Python 3.13 in a cached Debian 13 root (scripts/test-trixie.sh; needs root; leave
# that pass out with EDGECAM_TEST_TRIXIE=0). Arguments go to pytest in both passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
trixie=${EDGECAM_TEST_TRIXIE:-1}
if [ "$trixie" != 0 ]; then
  # Build (or find) the Debian 13 root and its venv while the first pass runs: mostly downloads
  # and unpacking, minutes on a new machine. In a process group of its own, so that an early
  # exit stops all of it; its output is shown before the second pass.
  prepared=$(mktemp)
  setsid bash scripts/test-trixie.sh --prepare >"$prepared" 2>&1 &
  preparing=$!
  trap 'kill -- -"$preparing" 2>/dev/null || true; rm -f "$prepared"' EXIT
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
if [ "$trixie" != 0 ]; then
  wait "$preparing" || true # a failed preparation is tried again, and reported, by the pass
  grep -v '^I: ' "$prepared" || true
  bash scripts/test-trixie.sh "$@" || status=$?
fi
exit "$status"
