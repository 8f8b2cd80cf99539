"""Build: run the stages in order (load, validate, model, render) and write the generated pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coguide.errors import Problem, errors_only
from coguide.load import load_project
from coguide.model import Site, build_model
from coguide.export import render_exports
from coguide.render import render_site, write_pages
from coguide.validate import parse_bibliography, validate_project

#: Generated Markdown lives here, apart from hand-written pages; git ignores it.
GENERATED_DIR = "generated"


@dataclass(kw_only=True)
class Generation:
    """What one run of the generator produced.

    Attributes:
        problems: Every problem found (warnings included).
        site: The model, or None when there were errors.
        written: Generated pages whose content changed in this run.
        out_dir: Where the generated pages are.
        timings: Seconds per stage, in order.
    """

    problems: list[Problem]
    site: Site | None
    written: list[str]
    out_dir: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when no problem is an error."""
        return not errors_only(self.problems)


def generate(
    root: Path | str,
    out_dir: Path | None = None,
    *,
    report: Callable[[str, float], None] | None = None,
) -> Generation:
    """Load, validate, model and render the project in `root`, writing pages only when all checks pass.

    Args:
        root: The project folder.
        out_dir: Where to write generated pages (default: ``<root>/generated``).
        report: Called with each stage's name and seconds as it finishes.

    Returns:
        The problems, the model and the pages written.
    """
    root = Path(root).resolve()
    out_dir = out_dir or root / GENERATED_DIR
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
    site = build_model(sources, bib)
    timed("model", start)
    start = time.perf_counter()
    written = write_pages([*render_site(site), *render_exports(site, sources)], out_dir)
    timed("render", start)
    return Generation(problems=problems, site=site, written=written, out_dir=out_dir, timings=timings)
