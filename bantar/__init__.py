"""BANTAR: continuous sensor evidence for Kota Jambi's Kampung BANTAR programme.

Package map:
- ``bantar.domain``: the pure core (registry, topics, readings, time buckets, rejections); no I/O.
- ``bantar.ports``: the small interfaces adapters implement (the reading store).
- ``bantar.stores``: store adapters (SQLite embedded; InfluxDB for production).
- ``bantar.settings``: one settings model (``BANTAR_*``).
The MQTT ingestor lives in ``ingest``, the HTTP service in ``api``, device fleets in ``simulators``;
the ``bantar`` command, the demo and the one composition root in ``shell``. ``bantar`` imports
none of them.
"""
