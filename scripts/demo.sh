#!/usr/bin/env bash
# Set up the venv and run the demo: broker + ingestor + a simulated fleet, on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec "${BANTAR_VENV:-.venv}/bin/bantar" demo "$@"
