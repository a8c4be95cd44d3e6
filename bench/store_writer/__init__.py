"""Benchmark: the store's writer against raw psycopg COPY, in one run, into one database.

Run ``.venv/bin/python -m bench.store_writer``; fold into other benchmarks with
:func:`run_bench`, which returns the numbers.
"""

from bench.store_writer.run import BenchResult, run_bench

__all__ = ["BenchResult", "run_bench"]
