"""Engines: the MkDocs hooks the adapter adds to every build; engine glue only, none of the generator's stages.

MkDocs loads this file by path (``coguide.engines.mkdocs`` passes it as ``hooks``), so it keeps no state
that the adapter relies on. It points the edit link of generated pages at the data file they come from
(their ``edit_path``), draws a progress line in a terminal, and marks the finished site folder as a build's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from coguide.outputs import MARKER, mark


class Progress:
    """A one-line page counter for long builds, shown only in an interactive terminal (not in CI)."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")

    def start(self, total: int) -> None:
        """Reset the counter for a build of `total` pages."""
        self.total, self.done = total, 0

    def step(self) -> None:
        """Count one page and redraw the bar every few pages."""
        self.done += 1
        # Plugins (the blog's archive and category pages) add pages after the count was taken.
        self.total = max(self.total, self.done)
        if self.enabled and self.done % 10 == 0:
            self._draw()

    def finish(self) -> None:
        """Draw the full bar and end its line."""
        if self.enabled and self.done:
            self._draw()
            sys.stderr.write("\n")

    def _draw(self) -> None:
        filled = 30 * self.done // self.total
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(f"\rcoguide: engine   [{bar}] {self.done}/{self.total} pages")
        sys.stderr.flush()


PROGRESS = Progress()


# Hand-written pages sit in the docs tree at their docs/ path, so MkDocs' own edit links are right for them.
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Point edit links at docs/ in the repository (none without a repository, as in a fresh clone)."""
    config.edit_uri = "edit/main/docs/" if config.repo_url else ""
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Start the progress line."""
    PROGRESS.start(len(files.documentation_pages()))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Count a page."""
    PROGRESS.step()
    return markdown


# Generated pages name the data file a contributor should edit; MkDocs would point at the tree instead.
def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
    """Point a generated page's edit link at its data file (its ``edit_path``)."""
    edit_path = page.meta.get("edit_path")
    if edit_path is None and page.meta.get("generated_page"):
        page.edit_url = None
    elif edit_path is not None:
        page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/{edit_path}" if config.repo_url else None
    return context


def on_post_build(config: MkDocsConfig) -> None:
    """End the progress line; mark the site folder as a build's, so the next build may replace it."""
    PROGRESS.finish()
    site_dir = Path(config.site_dir)
    if not (site_dir / MARKER).is_file():
        mark(site_dir)
