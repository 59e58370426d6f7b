#!/usr/bin/env bash
# Set up everything the tests need, then run the whole suite: lint, types, tests; then the tests
# again under Python 3.13 in a cached Debian 13 root (scripts/test-trixie.sh; needs root; leave
# that pass out with EDGECAM_TEST_TRIXIE=0). Arguments go to pytest in both passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
if [ "${EDGECAM_TEST_TRIXIE:-1}" != 0 ]; then
  bash scripts/test-trixie.sh "$@" || status=$?
fi
exit "$status"
