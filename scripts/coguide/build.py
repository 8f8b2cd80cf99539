"""Build: run the stages in order (load, validate, model, render) and write the generated pages."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coguide.errors import Problem, errors_only
from coguide.export import load_author_names, render_exports
from coguide.load import load_project
from coguide.model import Site, SiteInfo, build_model
from coguide.outputs import check_output_dir
from coguide.render import render_site, write_pages
from coguide.validate import parse_bibliography, validate_project

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


def input_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Return a cheap fingerprint of every input file (path, size, modification time)."""
    paths = [p for folder in ("datapackage", "docs") for p in (root / folder).rglob("*") if p.is_file()]
    paths += [p for p in (Path(__file__).parent / "templates").rglob("*") if p.is_file()]
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths))


_CACHE: dict[tuple[object, ...], Generation] = {}


def generate_cached(root: Path | str, *, site_name: str | None = None, site_url: str = "") -> Generation:
    """Return the last generation for unchanged inputs, or generate again.

    `coguide build` generates (and fails fast) before MkDocs starts; the MkDocs hook then calls this and
    reuses that work. Under `coguide serve` an edited file changes the fingerprint, so pages are regenerated.
    """
    root = Path(root).resolve()
    key = (root, site_name, site_url, input_fingerprint(root))
    cached = _CACHE.get(key)
    out_dir = root / GENERATED_DIR
    if cached is not None and out_dir.is_dir() and not out_dir.is_symlink():
        return cached
    generation = generate(root, site_name=site_name, site_url=site_url)
    _CACHE.clear()
    _CACHE[key] = generation
    return generation


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
    problems = validate_project(sources)
    timed("validate", start)
    if errors_only(problems):
        return Generation(problems=problems, site=None, written=[], out_dir=out_dir, timings=timings)
    start = time.perf_counter()
    bib, _ = parse_bibliography(sources)
    base = site_url.rstrip("/") + "/" if site_url else ""
    info = SiteInfo(
        name=site_name or SiteInfo.name,
        url=base,
        updated=source_dates(root),
        authors=load_author_names(root),
    )
    site = build_model(sources, bib, info)
    timed("model", start)
    start = time.perf_counter()
    pages = [*render_site(site), *render_exports(site, sources)]
    written = write_pages(pages, out_dir)
    timed("render", start)
    files = sorted(page.src_uri for page in pages)
    return Generation(
        problems=problems, site=site, written=written, out_dir=out_dir, files=files, timings=timings
    )
