"""Benchmarks against peers; each prints what it compared, on what input, and the ratio."""
