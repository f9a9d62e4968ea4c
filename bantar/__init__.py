"""BANTAR: continuous sensor evidence for Kota Jambi's Kampung BANTAR programme.

Package map:
- ``bantar.domain``: the pure core (registry, topics, readings, time buckets, rejections); no I/O.
- ``bantar.ports``: the small interfaces adapters implement (the reading store).
- ``bantar.stores``: store adapters (SQLite embedded; InfluxDB for production).
- ``bantar.settings`` / ``bantar.bootstrap``: one settings model, one composition root.
- ``bantar.cli``: the ``bantar`` command.
The MQTT ingestor lives in ``ingest``, the HTTP service in ``api``, device fleets in ``simulators``.
"""
