"""Bulk rebuilds: the evidence of many RT-days derived at once, vectorised over Arrow columns.

The per-day path (``bantar.domain.evidence.derive_day``) stays the definition and the live
path; bulk derivation gives the same figures, flags and sources (``tests/unit/test_bulk.py``
checks it on random readings with faults) at a fraction of the cost per reading. Each device
kind has its own kernel (``rebuild.KERNELS``); kinds with few readings use the per-day path.
"""
