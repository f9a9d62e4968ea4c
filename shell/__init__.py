"""The shell: the ``bantar`` command, the demo and the composition root (``shell.compose``).

It is the only package that knows every other one: it builds the core (``bantar``) and its
adapters (``api``, ``ingest``, ``simulators``) from settings and runs them. Nothing imports it
back (the layers contract in pyproject.toml, checked by ``tests/unit/test_layers.py``)."""
