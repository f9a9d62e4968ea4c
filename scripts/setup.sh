#!/usr/bin/env bash
# Set up a development machine: system packages (when root and missing) and the Python venv.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [--with-test-services]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BANTAR_VENV:-.venv}
PY=${PYTHON:-python3}

want_services=0
[ "${1:-}" = "--with-test-services" ] && want_services=1

if [ "$want_services" = 1 ]; then
  missing=()
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
  command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)  # the compose healthcheck's probe
  command -v caddy >/dev/null 2>&1 || missing+=(caddy)  # the TLS reverse proxy in front of bantar api
  command -v node >/dev/null 2>&1 || missing+=(nodejs)  # bench/nodered.py: the Node-RED peer
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q -e ".[test,embedded-broker,influxdb]"
