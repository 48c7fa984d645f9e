"""The case service (FastAPI)."""
