"""Benchmark: the running platform end to end through Mosquitto at design load, and the store
writer against raw COPY in the same run.

Run ``.venv/bin/python -m bench.e2e_latency [--quick]``; :func:`run` returns the numbers.
"""

from bench.e2e_latency.run import E2EResult, run

__all__ = ["E2EResult", "run"]
