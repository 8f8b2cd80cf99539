"""Scaffold: ``coguide new`` starts a record or an essay from a valid skeleton."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("kind", choices=("term", "concept", "case", "argument", "essay"))
    parser.add_argument("name", help="the new record's id, or the essay's title")


def run(args: argparse.Namespace) -> int:
    """Create the skeleton."""
    raise SystemExit("coguide new: not available yet")
