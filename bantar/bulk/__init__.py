"""Bulk rebuilds: the evidence of many RT-days derived at once, vectorised over Arrow columns.

The per-day path (``bantar.domain.evidence.derive_day``) stays the definition and the live
path; bulk derivation gives the same figures, flags and sources (``tests/unit/test_bulk.py``
checks it on random readings with faults) at a fraction of the cost per reading. A kind with
many readings names its kernel in its plug-in (``KindPlugin.bulk``: bins, cameras); the other
kinds use the per-day path (``others``).
"""
