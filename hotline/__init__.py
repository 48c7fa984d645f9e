"""The ``hotline`` command: one entry point for the project's jobs."""
