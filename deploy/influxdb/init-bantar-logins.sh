#!/bin/bash
# Runs once, on InfluxDB's first start, after its automated setup (the CLI holds the admin token):
# one InfluxQL (v1) login per service, each with only the rights it needs on the bucket.
# The admin token stays with InfluxDB itself; no BANTAR service or Grafana ever receives it.
set -euo pipefail
bucket_id=$(influx bucket list --name "${DOCKER_INFLUXDB_INIT_BUCKET}" --hide-headers | cut -f 1)
# The ingestor only writes readings.
influx v1 auth create --username bantar-ingest --password "${INFLUXDB_INGEST_PASSWORD}" \
  --write-bucket "${bucket_id}"
# The API reads evidence; it also writes the readings people post (deposits, poskamling reports).
influx v1 auth create --username bantar-api --password "${INFLUXDB_API_PASSWORD}" \
  --read-bucket "${bucket_id}" --write-bucket "${bucket_id}"
# Grafana only reads.
influx v1 auth create --username grafana --password "${INFLUXDB_GRAFANA_PASSWORD}" \
  --read-bucket "${bucket_id}"
