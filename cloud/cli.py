"""``xj``: the platform's one console command.

Each stage contributes its subcommands through a module with
``register(sub: argparse._SubParsersAction) -> None``; a registered handler is stored as the
parser default ``func`` and returns the process exit code. A user's mistake raises
:class:`UserError`, printed as one line that says what to fix, with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Sequence

#: Modules that contribute subcommands, in help order. Missing ones are skipped.
COMMAND_MODULES = (
    "cloud.demo_cli",
    "cloud.serve_cli",
    "roadnet.cli",
    "ingest.cli",
    "sim.cli",
    "fusion.cli",
    "control.cli",
    "codec.cli",
    "store.cli",
    "trust.cli",
)


class UserError(Exception):
    """A mistake the user can fix; the message says how."""


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full ``xj`` argument parser with every available stage's subcommands."""
    parser = argparse.ArgumentParser(
        prog="xj",
        description="Xiangjiang V2X cloud control platform",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:  # the stage's package is not there at all
            continue
        module = importlib.import_module(name)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``xj`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(int(args.verbose), 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except UserError as exc:
        print(f"xj: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xj: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
