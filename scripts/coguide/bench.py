"""Bench: time each stage of the generator on a synthetic package of N records."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--records", type=int, default=1000)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark."""
    raise SystemExit("coguide bench: not available yet")
