"""Shared fixtures: build small projects from the base fixture plus one overlay per scenario."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
#: Files of the real project that a fixture project needs to build with MkDocs.
PROJECT_FILES = ("mkdocs.yml", "CONTRIBUTING.md", "docs", "scripts/coguide/mkdocs_adapter.py")


def make_project(dest: Path, *overlays: str, full: bool = False) -> Path:
    """Create a project in `dest`: the real descriptor, the base fixture, then each overlay.

    An overlay may hold a `.delete` file listing paths to remove.
    With `full`, the real mkdocs.yml and hand-written docs (but not the real essays) are copied first,
    so the project can be built with MkDocs.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if full:
        for name in PROJECT_FILES:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("posts"))
            else:
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    (dest / "datapackage").mkdir(exist_ok=True)
    shutil.copy2(ROOT / "datapackage" / "datapackage.json", dest / "datapackage" / "datapackage.json")
    for layer in ("base", *overlays):
        src = FIXTURES / layer
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".delete"))
        delete = src / ".delete"
        if delete.is_file():
            for rel in delete.read_text().split():
                (dest / rel).unlink()
    return dest


@pytest.fixture
def project(tmp_path: Path):
    """Return a factory: project(*overlays, full=False) -> path of a fresh fixture project."""
    counter = iter(range(1000))

    def factory(*overlays: str, full: bool = False) -> Path:
        return make_project(tmp_path / f"p{next(counter)}", *overlays, full=full)

    return factory
