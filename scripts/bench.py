#!/usr/bin/env python3
"""Bench: run the generator's benchmark from a checkout; the same as ``coguide bench`` (see its --help)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Runs without installing the package: the generator lives beside this script.
sys.path.insert(0, str(ROOT / "scripts"))

from coguide.tools import bench  # noqa: E402


def main() -> int:
    """Parse the benchmark's arguments and run it on this checkout's project."""
    parser = argparse.ArgumentParser(prog="scripts/bench.py", description=bench.__doc__)
    parser.add_argument("--project", default=str(ROOT), help="the real project to copy configuration from")
    bench.add_arguments(parser)
    return bench.run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
