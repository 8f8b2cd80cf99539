"""Engines: the MkDocs hooks the adapter adds to every build; engine glue only, none of the generator's stages.

MkDocs loads this file by path (``coguide.engines.mkdocs`` passes it as ``hooks``), so it keeps no state
that the adapter relies on. It points the edit link of generated pages at the data file they come from
(their ``edit_path``), draws a page counter (with rich) in a terminal, and marks the finished site folder as a build's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from coguide.links import resolve_root_links
from coguide.outputs import MARKER, mark


class Progress:
    """A page counter for long builds, drawn with rich only in an interactive terminal (not in CI or a pipe)."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")
        self._bar: Any = None
        self._task: Any = None

    def start(self, total: int) -> None:
        """Reset the counter for a build of `total` pages (a rebuild under ``serve`` starts a new bar)."""
        self.total, self.done = total, 0
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
        from rich.progress import Progress as Bar

        self._stop()
        self._bar = Bar(
            TextColumn("[bold]coguide:[/] engine  "),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("pages"),
            console=Console(stderr=True, highlight=False),
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._bar.add_task("engine", total=total)
        self._bar.start()

    def step(self) -> None:
        """Count one page and redraw the bar every few pages."""
        self.done += 1
        # Plugins (the blog's archive and category pages) add pages after the count was taken.
        self.total = max(self.total, self.done)
        if self._bar is not None and self.done % 10 == 0:
            self._bar.update(self._task, completed=self.done, total=self.total, refresh=True)

    def finish(self) -> None:
        """Draw the full bar and end its line."""
        if self._bar is not None and self.done:
            self._bar.update(self._task, completed=self.done, total=self.total, refresh=True)
        self._stop()

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


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


# An essay's links are written from the site root, because its excerpt is shown on the index and category
# pages too: each page that shows it makes them relative to itself, so they resolve under any base path.
def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Make root links in a page's own content relative to the page (before search indexes it).

    A page's Markdown is not needed once it is HTML, except by the blog (`keeps_text`): it is let go here.
    """
    if not keeps_text(page):
        page.markdown = ""  # not None: the engine reads None as "not read yet" (no title)
    return resolve_root_links(html, page.url)


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Make root links relative in the finished page, including the essay excerpts of index pages.

    The page is written once this returns, and nothing reads its HTML again, except the blog's (`keeps_text`):
    it is let go here too. The engine renders every page before it writes any, so without this the build held
    every page's Markdown and HTML at once (1.6 GiB at its peak for 7,300 pages).
    """
    if not keeps_text(page):
        page.content = None
    return resolve_root_links(output, page.url)


def keeps_text(page: Page) -> bool:
    """Return True for a page whose Markdown and HTML the engine reads after building it: the blog's.

    The blog plugin cuts each essay's excerpt from the essay's text for its index, archive and category
    pages; the other plugins read a page's HTML only before the page is written (search, cross-references).
    """
    return page.file.src_uri.startswith("blog/")


# Generated pages name the data file a contributor should edit; MkDocs would point at the tree instead.
def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
    """Point a generated page's edit link at its data file (and a record's line); add "Report a problem"."""
    repo = (config.repo_url or "").rstrip("/")
    if repo:
        page.meta["report_url"] = report_url(repo, page.canonical_url or page.url, page.title or "")
    edit_path = page.meta.get("edit_path")
    if edit_path is None and page.meta.get("generated_page"):
        page.edit_url = None
    elif edit_path is not None:
        line = page.meta.get("edit_line")
        # A record lives on one line of a CSV file: open the file at that line (GitHub highlights it),
        # where the pencil button edits it; other generated pages open their source file.
        page.edit_url = (
            None
            if not repo
            else f"{repo}/blob/main/{edit_path}#L{line}"
            if line
            else f"{repo}/edit/main/{edit_path}"
        )
    return context


def report_url(repo_url: str, page_url: str, title: str) -> str:
    """Return the address of a new "Report an error" issue with the page's address and title filled in."""
    query = urlencode({"template": "report-error.yml", "title": f"Error: {title}", "page": page_url})
    return f"{repo_url}/issues/new?{query}"


def on_post_build(config: MkDocsConfig) -> None:
    """End the progress line; mark the site folder as a build's, so the next build may replace it."""
    PROGRESS.finish()
    site_dir = Path(config.site_dir)
    if not (site_dir / MARKER).is_file():
        mark(site_dir)
