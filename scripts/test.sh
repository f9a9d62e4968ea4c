#!/usr/bin/env bash
# Set up (system packages, venv) and run the whole test suite: lint, format check, types, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --with-test-services
VENV=${BANTAR_VENV:-.venv}
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest "$@"
