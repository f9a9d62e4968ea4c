# The BANTAR image: one `bantar` command; docker-compose.yml runs it as the ingestor and the API.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bantar bantar
COPY ingest ingest
COPY api api
COPY simulators simulators
COPY shell shell
RUN pip install ".[influxdb]" \
    && useradd --system --uid 10001 --home-dir /var/lib/bantar bantar \
    && mkdir -p /var/lib/bantar && chown bantar /var/lib/bantar
COPY config config
USER bantar
CMD ["bantar", "--help"]
