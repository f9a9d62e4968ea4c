#!/usr/bin/env bash
# Every benchmark in one command, each printing its figures and its ratios from the same run
# (bench/README.md says what each measures and the targets): ingest next to the broker's
# ceilings (bare paho subscriber, mosquitto_sub), the store's cost as it grows, bytes per reading
# hot and archived, the Node-RED peer (installed by npm into bench/.node-red), the city summary
# right after an evidence update, evidence and API latency, evidence rebuilt in bulk (a city-week,
# bulk vs incremental), and the memory soak.
# Full: about 25 minutes on a quiet 2-core machine (estimated from each bench's earlier runs);
# --quick (smaller runs; no store growth, no soak, evidence on SQLite only): about 8. Each bench
# prints its own duration; one that fails does not stop the others (the script exits 1 at the end).
# Run on a quiet machine: the figures are ratios from one run, but a loaded machine skews them.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --with-test-services >/dev/null || exit 1
PY=${BANTAR_VENV:-.venv}/bin/python
failed=()
run() {
  local began=$SECONDS
  echo "=== bench/$* (load average $(cut -d' ' -f1 /proc/loadavg))"
  "$PY" bench/"$@" || failed+=("$1")
  echo "=== bench/$1: $((SECONDS - began)) s"
  echo
}
if [ "${1:-}" = "--quick" ]; then
  run ingest.py --messages 50000 --repeat 1
  run archive_size.py --every 40 --days 2
  run nodered.py --messages 20000
  run summary.py --hours 0.5 --days 30 --updates 10
  run evidence.py --hours 1 --days 90 --requests 20 --no-influxdb
  run rebuild.py --days 2 --every 10 --sample 60
else
  run ingest.py
  run store_growth.py --rows 300000
  run archive_size.py
  run nodered.py
  run summary.py
  run evidence.py --hours 3 --requests 30
  run rebuild.py
  run soak.py --minutes 3
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
