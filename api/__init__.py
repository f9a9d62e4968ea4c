"""The HTTP service: evidence, scores, summaries and alerts for assessors (FastAPI)."""
