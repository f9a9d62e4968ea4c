#!/usr/bin/env bash
# Set up the venv (quietly; its log in var/setup.log) and run the demo: 60 days of a simulated
# kelurahan through MQTT, then the dashboard with a live fleet until Ctrl-C. Options go to `bantar demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
echo "setting up ${BANTAR_VENV:-.venv} (log: var/setup.log) ..." >&2
if ! ./scripts/setup.sh >var/setup.log 2>&1; then
  tail -n 30 var/setup.log >&2
  echo "setup failed; the whole log is in var/setup.log" >&2
  exit 1
fi
exec "${BANTAR_VENV:-.venv}/bin/bantar" demo "$@"
