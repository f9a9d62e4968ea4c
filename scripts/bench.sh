#!/usr/bin/env bash
# Every benchmark in one command, each printing its figures and its ratios from the same run:
# ingest (SQLite, InfluxDB, shared subscription), the store's cost as it grows, evidence and API
# latency (SQLite and InfluxDB, 1,635 RTs x 365 days), evidence rebuilt in bulk (a city-week, bulk vs
# incremental), bytes per reading hot and archived, the Node-RED peer
# (installed by npm into bench/.node-red), and the 10-minute memory soak. About 30
# minutes; --quick: about 8.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --with-test-services >/dev/null
PY=${BANTAR_VENV:-.venv}/bin/python
if [ "${1:-}" = "--quick" ]; then
  "$PY" bench/ingest.py --messages 50000 --repeat 1
  "$PY" bench/store_growth.py --rows 200000
  "$PY" bench/archive_size.py --every 40 --days 2
  "$PY" bench/nodered.py --messages 20000
  "$PY" bench/evidence.py --hours 3 --requests 20
  "$PY" bench/rebuild.py --days 2 --every 10 --sample 60
  "$PY" bench/soak.py --minutes 2 --burst 50000
else
  "$PY" bench/ingest.py
  "$PY" bench/store_growth.py
  "$PY" bench/archive_size.py
  "$PY" bench/nodered.py
  "$PY" bench/evidence.py --hours 6 --requests 30
  "$PY" bench/rebuild.py
  "$PY" bench/soak.py
fi
