"""MkDocs adapter: the only module that knows MkDocs. Loaded by ``mkdocs.yml`` as a hooks file.

Everything else produces engine-neutral Markdown; this file feeds it to MkDocs: it runs the generator
when the configuration loads, adds the generated pages as virtual files, renders citations and glossary
links in hand-written pages, registers redirects for renamed ids, and watches the data for live reload.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from coguide.build import GENERATED_DIR, Generation, generate_cached
from coguide.export import load_author_names, page_jsonld
from coguide.glossary import Glossary
from coguide.outputs import MARKER, OutputError, check_output_dir, mark
from coguide.render import citation_meta, make_glossary, render_document, resolve_root_links

log = logging.getLogger("mkdocs.plugins.coguide")


class _State:
    """What one build's hooks share: the generation, its glossary and the generated pages' paths."""

    def __init__(self) -> None:
        self.generation: Generation | None = None
        self.glossary: Glossary | None = None
        self.generated: set[str] = set()
        self.authors: dict[str, str] = {}
        self.progress = Progress()


class Progress:
    """A one-line page counter for long MkDocs builds, shown only in an interactive terminal (not in CI)."""

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
        sys.stderr.write(f"\rcoguide: mkdocs   [{bar}] {self.done}/{self.total} pages")
        sys.stderr.flush()


STATE = _State()


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


# Runs first, on every (re)build: regenerating here is what makes `mkdocs serve` pick up data edits.
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Run the generator and fail the build, listing every problem, if the sources have errors."""
    root = _root(config)
    try:
        # `mkdocs build` (without coguide) empties site_dir right after this hook: refuse a folder it must not.
        check_output_dir(
            root,
            Path(config.site_dir),
            kind="site",
            fix="choose another site_dir in mkdocs.yml",
            reserved=(GENERATED_DIR,),
        )
        generation = generate_cached(root, site_name=config.site_name, site_url=config.site_url or "")
    except OutputError as exc:
        raise PluginError(f"coguide: {exc}") from None
    for problem in generation.problems:
        if problem.severity == "warning":
            log.debug(problem.format())
    if not generation.ok:
        lines = "\n".join(p.format() for p in generation.problems if p.severity == "error")
        raise PluginError(f"coguide check found problems:\n{lines}")
    site = generation.site
    assert site is not None
    STATE.generation = generation
    # Edit links need a repository; without one (a local build of a fresh clone) there are none.
    config.edit_uri = "edit/main/docs/" if config.repo_url else ""
    STATE.glossary = make_glossary(site)
    STATE.authors = load_author_names(root)
    redirects = config.plugins.get("redirects")
    if redirects is not None:
        maps = redirects.config.setdefault("redirect_maps", {})
        for resource in ("terms", "concepts", "cases"):
            for record in getattr(site, resource).values():
                for alias in record.aliases:
                    maps[f"{resource}/{alias}.md"] = record.src_uri
    return config


# Generated pages (and data files) are added from their own folder, so nothing is ever written into docs/.
# Runs before the other plugins' on_files, so that the blog, search and redirects plugins all see them.
@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every generated file to the build, refusing a hand-written file at the same path."""
    generation = STATE.generation
    assert generation is not None
    out_dir = generation.out_dir
    STATE.generated = set()
    # Only what the generator wrote in this run: a stray file in the folder is never published.
    for src_uri in generation.files:
        if files.get_file_from_path(src_uri) is not None:
            raise PluginError(
                f"docs/{src_uri} would hide a generated page: move or rename the hand-written page"
            )
        files.append(
            File(
                src_uri,
                src_dir=str(out_dir),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
        STATE.generated.add(src_uri)
    STATE.progress.start(len(files.documentation_pages()))
    return files


# Hand-written pages get the same citation treatment as generated ones; essays also get glossary links.
def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Render citations (and, in essays, glossary links) in hand-written pages."""
    STATE.progress.step()
    generation = STATE.generation
    if generation is None or generation.site is None or page.file.src_uri in STATE.generated:
        return markdown
    is_post = page.file.src_uri.startswith("blog/posts/")
    return render_document(
        markdown,
        page.url,
        generation.site,
        src_uri=page.file.src_uri,
        glossary=STATE.glossary if is_post else None,
        root_links=is_post,
    )


# An essay's links in HTML are written from the site root (its excerpt is shown on the index and category
# pages too): each page that shows it makes them relative to itself, so they resolve under any base path.
def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Make root links in a page's own content relative to the page (before search indexes it)."""
    return resolve_root_links(html, page.url)


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Make root links relative in the finished page, including the essay excerpts of index pages."""
    return resolve_root_links(output, page.url)


# Runs once the page's URL is known: JSON-LD needs it, and the edit link replaces MkDocs' default.
def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any) -> dict[str, Any]:
    """Attach JSON-LD, citation meta tags and the "Report a problem" address; edit links of records go to their line."""
    generation = STATE.generation
    if generation is not None and generation.site is not None:
        data = page_jsonld(generation.site, page.file.src_uri, authors=STATE.authors)
        if data is not None:
            page.meta["jsonld"] = data
        page.meta["citation_meta"] = citation_meta(generation.site, page.file.src_uri)
    repo = (config.repo_url or "").rstrip("/")
    if repo:
        page.meta["report_url"] = report_url(repo, page.canonical_url or page.url, page.title or "")
    if page.file.src_uri not in STATE.generated:
        return context
    edit_path = page.meta.get("edit_path")
    page.edit_url = None
    if edit_path and repo:
        line = _record_line(page.file.src_uri)
        # A record lives on one line of a CSV file: open the file at that line (GitHub highlights it),
        # where the pencil button edits it; other generated pages open their source file.
        page.edit_url = f"{repo}/blob/main/{edit_path}#L{line}" if line else f"{repo}/edit/main/{edit_path}"
    return context


def _record_line(src_uri: str) -> int | None:
    """Return the line of the data file that holds the record a page is made from, or None."""
    generation = STATE.generation
    if generation is None or generation.site is None:
        return None
    for resource in ("terms", "concepts", "cases"):
        for record in getattr(generation.site, resource).values():
            if record.src_uri == src_uri:
                return record.line
    return None


def report_url(repo_url: str, page_url: str, title: str) -> str:
    """Return the address of a new "Report an error" issue with the page's address and title filled in."""
    query = urlencode({"template": "report-error.yml", "title": f"Error: {title}", "page": page_url})
    return f"{repo_url}/issues/new?{query}"


def on_post_build(config: MkDocsConfig) -> None:
    """End the progress line; mark the site folder as the build's, so the next build may replace it."""
    STATE.progress.finish()
    site_dir = Path(config.site_dir)
    if not (site_dir / MARKER).is_file():
        mark(site_dir)


# `mkdocs serve` watches docs/ only; data and templates live elsewhere.
def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """Watch the data package and the templates as well as the docs."""
    root = _root(config)
    server.watch(str(root / "datapackage"))
    server.watch(str(Path(__file__).parent / "templates"))
    return server


__all__ = [
    "GENERATED_DIR",
    "on_config",
    "on_files",
    "on_page_content",
    "on_page_context",
    "on_page_markdown",
    "on_post_build",
    "on_post_page",
    "on_serve",
]
