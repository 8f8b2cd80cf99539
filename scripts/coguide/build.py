"""Build: run the stages in order (load, validate, model, render) and write the generated pages."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coguide.errors import Problem, errors_only
from coguide.model import Site, SiteInfo, build_model
from coguide.outputs import MARKER, check_output_dir
from coguide.pages.export import render_exports
from coguide.pages.render import Page, render_site, write_pages
from coguide.pages.tree import add_page_meta, render_redirects, render_written_pages
from coguide.source.load import load_project, read_config
from coguide.source.validate import validate_sources

#: Generated Markdown lives here, apart from hand-written pages; git ignores it.
GENERATED_DIR = "generated"
#: How to fix a refused generated-pages folder.
GENERATED_FIX = f"remove it; the build makes {GENERATED_DIR}/ in the project folder itself"


@dataclass(kw_only=True)
class Generation:
    """What one run of the generator produced.

    Attributes:
        problems: Every problem found (warnings included).
        site: The model, or None when there were errors.
        written: Generated pages whose content changed in this run.
        files: Every generated page and data file, as paths relative to `out_dir`.
        out_dir: Where the generated pages are.
        timings: Seconds per stage, in order.
    """

    problems: list[Problem]
    site: Site | None
    written: list[str]
    out_dir: Path
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when no problem is an error."""
        return not errors_only(self.problems)


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """What the generator needs from the engine configuration (``mkdocs.yml``): the site's name and address."""

    name: str
    url: str


def _env_value(value: object) -> str:
    """Resolve a ``!ENV [NAME, ..., default]`` value as the engines do: the first variable set, else the default."""
    if isinstance(value, list) and value:
        for name in value[:-1]:
            if os.environ.get(str(name)):
                return os.environ[str(name)]
        return "" if value[-1] is None else str(value[-1])
    return "" if value is None else str(value)


def read_site_settings(root: Path) -> SiteSettings:
    """Read the site's name and address from ``mkdocs.yml`` (its ``!ENV`` values resolved)."""
    config = read_config(Path(root), [])
    return SiteSettings(
        name=_env_value(config.get("site_name")) or SiteInfo.name,
        url=_env_value(config.get("site_url")),
    )


def input_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Return a cheap fingerprint of every input file (path, size, modification time): what `serve` watches."""
    paths = [p for folder in ("datapackage", "docs") for p in (root / folder).rglob("*") if p.is_file()]
    paths += [p for p in (root / "CONTRIBUTING.md", root / "mkdocs.yml") if p.is_file()]
    paths += [p for p in (Path(__file__).parent / "pages" / "templates").rglob("*") if p.is_file()]
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths))


def stray_files(out_dir: Path, wanted: set[str]) -> list[Problem]:
    """Report files in the docs tree that this run did not write: the engine would publish them.

    The build never deletes what it did not make, so it refuses instead, and says how to mend it.
    """
    problems = []
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir).as_posix()
        if path.is_dir() or rel == MARKER or rel in wanted:
            continue
        problems.append(
            Problem(
                path=f"{GENERATED_DIR}/{rel}",
                line=None,
                code="unsafe-output",
                message=f"{rel} is in the generated docs tree, but no build wrote it; the engine would publish it",
                hint=f"move it out of {GENERATED_DIR}/ (the build never deletes what it did not make)",
            )
        )
    return problems


def source_dates(root: Path) -> dict[str, str]:
    """Return the date of the last commit touching each tracked file, from one ``git log`` call.

    Outside a git checkout (or without git) the result is empty and pages show "n.d.".
    """
    try:
        out = subprocess.run(
            ["git", "log", "--format=%x00%cs", "--name-only", "--no-renames", "--", "datapackage", "docs"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    dates: dict[str, str] = {}
    for block in out.split("\0")[1:]:
        lines = block.strip().splitlines()
        if not lines:
            continue
        for name in lines[1:]:
            dates.setdefault(name.strip(), lines[0].strip())
    return dates


def generate(
    root: Path | str,
    out_dir: Path | None = None,
    *,
    site_name: str | None = None,
    site_url: str = "",
    report: Callable[[str, float], None] | None = None,
) -> Generation:
    """Load, validate, model and render the project in `root`, writing pages only when all checks pass.

    Args:
        root: The project folder.
        out_dir: Where to write generated pages (default: ``<root>/generated``).
        site_name: The site's name, for "Cite this page" (default: `SiteInfo`'s).
        site_url: The site's absolute base URL, or "" when unknown.
        report: Called with each stage's name and seconds as it finishes.

    Returns:
        The problems, the model and the pages written.

    Raises:
        OutputError: `out_dir` is a symlink, lies in the sources or holds files no build made.
    """
    root = Path(root).resolve()
    out_dir = check_output_dir(root, out_dir or root / GENERATED_DIR, kind="generated", fix=GENERATED_FIX)
    timings: dict[str, float] = {}

    def timed(stage: str, start: float) -> None:
        timings[stage] = time.perf_counter() - start
        if report:
            report(stage, timings[stage])

    start = time.perf_counter()
    sources = load_project(root)
    timed("load", start)
    start = time.perf_counter()
    validation = validate_sources(sources)
    problems = validation.problems
    timed("validate", start)
    if errors_only(problems):
        return Generation(problems=problems, site=None, written=[], out_dir=out_dir, timings=timings)
    start = time.perf_counter()
    bib = validation.bibliography  # parsed once, by validation
    base = site_url.rstrip("/") + "/" if site_url else ""
    info = SiteInfo(
        name=site_name or SiteInfo.name,
        url=base,
        updated=source_dates(root),
        authors=dict(sources.authors),
    )
    site = build_model(sources, bib, info, validation.citations)
    timed("model", start)
    start = time.perf_counter()
    # The complete docs tree: pages from the data, the hand-written pages with their citations rendered,
    # redirects for former ids, the data exports, and every other file under docs/ as it is.
    pages = [
        *add_page_meta(site, render_site(site)),
        *render_written_pages(site),
        *render_redirects(site),
        *render_exports(site),
        *(
            Page(src_uri=uri, content=(root / rel).read_bytes(), source=rel)
            for uri, rel in site.assets.items()
        ),
    ]
    written = write_pages(pages, out_dir)
    timed("render", start)
    files = sorted(page.src_uri for page in pages)
    problems = [*problems, *stray_files(out_dir, set(files))]
    return Generation(
        problems=problems, site=site, written=written, out_dir=out_dir, files=files, timings=timings
    )
