"""``python -m bench.store_writer [--rows N] [--batch N] [--runs N] [--db URL]``."""

from __future__ import annotations

import argparse
import os
import sys

from bench.store_writer.run import run_bench


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print what was compared and the ratio."""
    p = argparse.ArgumentParser(prog="python -m bench.store_writer", description=__doc__)
    p.add_argument("--rows", type=int, default=200_000, help="track rows per run (default 200000)")
    p.add_argument("--batch", type=int, default=10_000, help="rows per StoreWriter.write (default 10000)")
    p.add_argument("--runs", type=int, default=3, help="runs of each writer (default 3)")
    p.add_argument(
        "--db",
        default=os.environ.get("XJ_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="admin URL; a scratch database is created there (env XJ_BENCH_PG)",
    )
    args = p.parse_args(argv)
    if args.rows <= 0 or args.batch <= 0 or args.runs <= 0:
        print("xj: error: --rows, --batch and --runs must be positive", file=sys.stderr)
        return 2
    result = run_bench(args.db, n_rows=args.rows, batch_rows=args.batch, runs=args.runs)
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
