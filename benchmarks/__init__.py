"""Benchmarks printing their numbers; run through `hotline bench …`."""
