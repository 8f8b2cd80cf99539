"""Build: run the stages in order (load, validate, model, render) and write the generated pages."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import subprocess
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from coguide.cite import Bibliography
from coguide.errors import Problem, errors_only
from coguide.forked import Helper, can_fork, private_mib, shares
from coguide.model import Site, SiteInfo, WrittenPage, build_model
from coguide.outputs import MARKER, check_output_dir
from coguide.pages.export import ZipMembers, export_jobs
from coguide.pages.glossary import Glossary
from coguide.pages.render import (
    CompiledTemplates,
    Page,
    PageJob,
    add_to_marker,
    make_environment,
    make_glossary,
    page_jobs,
    write_page,
    write_pages,
)
from coguide.pages.tree import add_page_meta, render_redirects, render_written_page
from coguide.source.load import load_project, read_config
from coguide.source.validate import ValidationCache, validate_sources

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
        rendered: Generated pages and data files rendered in this run (the rest were kept from the last run).
        full: True when every page was rendered (a first run, or a change no page's dependencies name).
        helpers: How many helper processes rendered a share of the jobs (0: this process rendered them all).
        helpers_private_mib: The memory each helper held alone at its end, in MiB (None where not known).
    """

    problems: list[Problem]
    site: Site | None
    written: list[str]
    out_dir: Path
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)
    full: bool = True
    helpers: int = 0
    helpers_private_mib: list[float | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when no problem is an error."""
        return not errors_only(self.problems)


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """What the generator needs from the engine configuration (``mkdocs.yml``): the site's name and address."""

    name: str
    url: str


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (it is switched back on after, as it was).

    Building the model makes hundreds of thousands of small objects in one go, and none of them is garbage
    yet. Each pass of the collector walks every object still alive, so with the collector on this stage cost
    more per record as the project grew (0.09 s at 1,000 records, 0.59 s at 4,000: 1.6 times as much per
    record), and with it paused the cost per record stays flat (0.39 s at 4,000).
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


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


def clashes(jobs: dict[str, _Job]) -> list[Problem]:
    """Report a file of the docs tree that two jobs make (a hand-written page where the data makes one)."""
    owners: dict[str, list[str]] = {}
    for key, job in jobs.items():
        for name in job.files:
            owners.setdefault(name, []).append(key)
    problems = []
    for name, keys in sorted(owners.items()):
        if len(keys) < 2:
            continue
        written = [key.split(":", 1)[1] for key in keys if key.startswith(("written:", "asset:"))]
        problems.append(
            Problem(
                path=f"docs/{written[0]}" if written else f"{GENERATED_DIR}/{name}",
                line=None,
                code="unexpected-file",
                message=f"{name} would be made twice in the docs tree (by {' and '.join(sorted(keys))}), "
                "and one would silently replace the other",
                hint="rename or move the hand-written page: the generator makes this page from the data",
            )
        )
    return problems


def stray_files(out_dir: Path, wanted: set[str]) -> list[Problem]:
    """Report files in the docs tree that this run did not write: the engine would publish them.

    The build never deletes what it did not make, so it refuses instead, and says how to mend it. A symbolic link
    to a folder is reported itself and never followed (the build writes none).
    """
    found: list[str] = []
    for folder, dirs, names in os.walk(out_dir):
        rel_folder = os.path.relpath(folder, out_dir)
        prefix = "" if rel_folder == "." else rel_folder.replace(os.sep, "/") + "/"
        found += [prefix + name for name in dirs if os.path.islink(os.path.join(folder, name))]
        found += [prefix + name for name in names]
    problems = []
    for rel in sorted(found):
        if rel == MARKER or rel in wanted:
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
    workers: int | None = None,
) -> Generation:
    """Load, validate, model and render the project in `root`, writing pages only when all checks pass.

    A one-shot run of a fresh `Generator`: every page is rendered (and written only when its content changed),
    by as many processes as `workers` (see `Generator`).

    Args:
        root: The project folder.
        out_dir: Where to write generated pages (default: ``<root>/generated``).
        site_name: The site's name, for "Cite this page" (default: `SiteInfo`'s).
        site_url: The site's absolute base URL, or "" when unknown.
        report: Called with each stage's name and seconds as it finishes.
        workers: How many processes render (this one and forked helpers); None: one per processor this
            process may run on (`processors`).

    Returns:
        The problems, the model and the pages written.

    Raises:
        OutputError: `out_dir` is a symlink, lies in the sources or holds files no build made.
    """
    count = processors() if workers is None else workers
    return Generator(root, out_dir, site_name=site_name, site_url=site_url, workers=count).run(report)


#: The most processes a full run renders in.
MAX_WORKERS = 8


def processors() -> int:
    """Return how many processors this process may run on (`Generator` renders in at most `MAX_WORKERS`)."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, count)


#: Project files whose change makes every page stale: the descriptor (every table's schema), the engine
#: configuration and the essays' authors. The templates (`TEMPLATES`) count too.
WHOLE_SITE_INPUTS = frozenset({"datapackage/datapackage.json", "mkdocs.yml", "docs/blog/.authors.yml"})
#: The folder of the page templates, whose files are fingerprinted with the project's.
TEMPLATES = Path(__file__).parent / "pages" / "templates"
_TEMPLATE_PREFIX = "coguide:templates/"
#: What the data records are, for comparing two models.
RECORD_KINDS = ("terms", "concepts", "cases", "questions", "arguments")


def input_files(root: Path) -> list[tuple[str, Path]]:
    """Return every file the generator reads, by name: project-relative paths, and the templates under ``coguide:``."""
    found = [
        (p.relative_to(root).as_posix(), p)
        for folder in ("datapackage", "docs")
        for p in (root / folder).rglob("*")
        if p.is_file()
    ]
    found += [(name, root / name) for name in ("CONTRIBUTING.md", "mkdocs.yml") if (root / name).is_file()]
    found += [
        (_TEMPLATE_PREFIX + p.relative_to(TEMPLATES).as_posix(), p)
        for p in TEMPLATES.rglob("*")
        if p.is_file()
    ]
    return sorted(found)


@dataclass(kw_only=True)
class _Job:
    """What the last run knew of one rendering job: what it depended on and which files it made."""

    depends: frozenset[str]
    files: tuple[str, ...]


@dataclass(kw_only=True)
class _LastRun:
    """The state a `Generator` keeps between runs: every input's digest, the model, and each job's files."""

    digests: dict[str, str]
    site: Site
    jobs: dict[str, _Job]
    out_dir: Path


class Generator:
    """The generator, keeping its last run in memory so that the next renders only what an edit changed.

    Each run fingerprints every input file (a digest of its content). Loading reads the project again (it is
    cheap); validation keeps what it can (`ValidationCache`): Frictionless re-validates only the tables whose
    file changed and the bibliography is parsed again only when it changed, while the checks that span tables
    and files run in full. The model is rebuilt and compared with the last one (frozen records compare by
    value): the records, works, essays and pages that differ become change tokens (`changes`), and only the
    rendering jobs (`coguide.pages.render.PageJob`) whose dependencies hold one of them run again; every other
    file in the docs tree stays as the last run wrote it. A change to anything not tracked that way (the
    templates, the descriptor, the engine configuration, the authors file, the site's name, address or source
    dates) renders every page, as does the first run.

    A full run writes pages as they are rendered (never all held at once); an incremental run writes its few
    pages together. Either way a file is rewritten only when its content changed. With `workers` above one, a
    full run forks helper processes that render a share of the jobs each (`coguide.forked`), where the
    system can fork and the process runs no other thread; otherwise this process renders every job.

    Args:
        root: The project folder.
        out_dir: Where to write generated pages (default: ``<root>/generated``).
        site_name: The site's name, for "Cite this page" (default: `SiteInfo`'s).
        site_url: The site's absolute base URL, or "" when unknown.
        workers: How many processes render a full run (1: this one alone; ``coguide serve`` keeps 1), at most
            `MAX_WORKERS`.
    """

    def __init__(
        self,
        root: Path | str,
        out_dir: Path | None = None,
        *,
        site_name: str | None = None,
        site_url: str = "",
        workers: int = 1,
    ) -> None:
        self.root = Path(root).resolve()
        self.out_dir = out_dir
        self.site_name = site_name
        self.site_url = site_url
        self.workers = max(1, min(workers, MAX_WORKERS))
        self._last: _LastRun | None = None
        self._validation = ValidationCache()
        self._kept = Kept()

    def digests(self) -> dict[str, str]:
        """Return a SHA-256 digest of every input file's content.

        Every file is read, whatever its modification time says (a few megabytes at 1,000 records, some
        hundredths of a second): a time can stay the same across an edit where the file system keeps it coarsely.
        """
        found: dict[str, str] = {}
        for name, path in input_files(self.root):
            try:
                found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue
        return found

    def run(
        self,
        report: Callable[[str, float], None] | None = None,
        *,
        first: Collection[str] = (),
        early: Callable[[list[str], list[str]], None] | None = None,
    ) -> Generation:
        """Generate the docs tree, rendering only what changed since the last successful run.

        Args:
            report: Called with each stage's name and seconds as it finishes.
            first: Files of the docs tree to render and write before the others in an incremental run (the
                pages a reader is looking at, under ``coguide serve``).
            early: With `first`: called once those files' jobs are written, when they rewrote some, with the
                files they rewrote and the files the other jobs to run made last time (which may change
                still); the other jobs run after it returns.

        Returns:
            The problems, the model, the pages written and (in `Generation.rendered`) the pages rendered.

        Raises:
            OutputError: The output folder is a symlink, lies in the sources or holds files no build made.
        """
        root = self.root
        out_dir = check_output_dir(
            root, self.out_dir or root / GENERATED_DIR, kind="generated", fix=GENERATED_FIX
        )
        timings: dict[str, float] = {}

        def timed(stage: str, start: float) -> None:
            timings[stage] = time.perf_counter() - start
            if report:
                report(stage, timings[stage])

        start = time.perf_counter()
        digests = self.digests()
        sources = load_project(root)
        timed("load", start)
        start = time.perf_counter()
        validation = validate_sources(sources, cache=self._validation, helper=self.workers > 1)
        problems = validation.problems
        timed("validate", start)
        if errors_only(problems):
            return Generation(problems=problems, site=None, written=[], out_dir=out_dir, timings=timings)
        start = time.perf_counter()
        last = self._last if self._last is not None and self._last.out_dir == out_dir else None
        # The bibliography validation parsed (parsed again only when the .bib changed).
        bib = validation.bibliography
        base = self.site_url.rstrip("/") + "/" if self.site_url else ""
        info = SiteInfo(
            name=self.site_name or SiteInfo.name,
            url=base,
            updated=source_dates(root),
            authors=dict(sources.authors),
        )
        with collector_paused():
            site = build_model(sources, bib, info, validation.citations)
        changed = None if last is None else changes(last.site, site, last.digests, digests)
        timed("model", start)
        start = time.perf_counter()
        jobs = site_jobs(site, root, self._kept)
        rendered: list[str] = []
        keep: list[str] = []
        kept: dict[str, _Job] = {}

        def made(job: PageJob) -> tuple[str, ...]:
            """Return the files `job` made in the last run (none when it is new)."""
            before = last.jobs.get(job.key) if last is not None else None
            return before.files if before is not None else ()

        def stale(job: PageJob) -> bool:
            before = last.jobs.get(job.key) if last is not None else None
            return changed is None or before is None or bool((job.depends | before.depends) & changed)

        def stream(batch: list[PageJob], beside: dict[str, Future[list[Page]]]) -> Iterator[Page]:
            for job in batch:
                if not stale(job):
                    kept[job.key] = _Job(depends=job.depends, files=made(job))
                    keep.extend(made(job))
                    continue
                files = []
                for page in beside[job.key].result() if job.key in beside else job.make():
                    files.append(page.src_uri)
                    rendered.append(page.src_uri)
                    yield page
                kept[job.key] = _Job(depends=job.depends, files=tuple(files))

        self._last = None  # a run cut short leaves no state to trust
        # A full run writes each page as it is rendered (never holding them all); an incremental run renders
        # its few pages first and writes them in one burst, so that an engine watching the tree (`coguide
        # serve`) sees one change and rebuilds once, not once per pause between two pages. Asked to, it
        # writes the jobs that make the `first` files in a burst of their own before the others. Jobs that run
        # beside the others (the zip's compression) start first, in a thread of their own.
        written: list[str] = []
        # A full run deals jobs out to helper processes, forked before the pool's thread starts.
        helpers: list[tuple[Helper[ShareResult], list[PageJob]]] = []
        helped: list[ShareResult | None] = []
        helpers_wrote: list[str] = []

        def collected() -> Iterator[Page]:
            """Yield this process's pages, then take each helper's files (or render its share if it failed)."""
            yield from stream(jobs, beside)
            for helper, share in helpers:
                result = helper.collect(ShareResult)
                helped.append(result)
                if result is None:
                    # What the helper wrote before it failed counts as written in this run.
                    helpers_wrote.extend(helper.noted)
                    yield from stream(share, beside)
                    continue
                for job in share:
                    files = result.files[job.key]
                    kept[job.key] = _Job(depends=job.depends, files=files)
                    keep.extend(files)
                    rendered.extend(files)
                helpers_wrote.extend(result.written)

        with (
            contextlib.ExitStack() as stack,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="coguide-beside") as pool,
        ):
            if changed is None and self.workers > 1 and can_fork():
                dealt = shares([job for job in jobs if not job.beside], self.workers)
                for share in dealt[1:]:
                    helper = Helper.start(lambda note, share=share: _render_share(share, out_dir, note))
                    if helper is None:  # the system refused: this process renders the rest
                        break
                    stack.callback(helper.stop)
                    helpers.append((helper, share))
                given = {job.key for _, share in helpers for job in share}
                jobs = [job for job in jobs if job.key not in given]
            beside = {job.key: pool.submit(job.make) for job in jobs if job.beside and stale(job)}
            if changed is not None and last is not None and early is not None and first:
                wanted = set(first)
                front = [job for job in jobs if stale(job) and wanted.intersection(made(job))]
                fronts = {job.key for job in front}
                if front:
                    previous = {name for job in last.jobs.values() for name in job.files}
                    written = write_pages(list(stream(front, beside)), out_dir, keep=previous)
                    keep.extend(name for job in front for name in kept[job.key].files)
                    jobs = [job for job in jobs if job.key not in fronts]
                    if written:
                        early(list(written), [name for job in jobs if stale(job) for name in made(job)])
            pages: Iterable[Page] = collected() if changed is None else list(stream(jobs, beside))
            try:
                written += write_pages(pages, out_dir, keep=keep)
            except BaseException:
                # Cut short: the helpers are stopped first, then every file they wrote is listed in the marker
                # (never taken for a stray by the next run).
                for helper, _ in helpers:
                    helper.stop()
                noted = [name for helper, _ in helpers for name in helper.noted]
                if noted:
                    add_to_marker(out_dir, noted)
                raise
            written = list(dict.fromkeys([*written, *helpers_wrote]))
        timed("render", start)
        files = sorted({*rendered, *keep})
        problems = [*problems, *clashes(kept), *stray_files(out_dir, set(files))]
        self._last = _LastRun(digests=digests, site=site, jobs=kept, out_dir=out_dir)
        return Generation(
            problems=problems,
            site=site,
            written=written,
            out_dir=out_dir,
            files=files,
            timings=timings,
            rendered=rendered,
            full=changed is None,
            helpers=len(helpers),
            helpers_private_mib=[r.private_mib for r in helped if r is not None],
        )


@dataclass(frozen=True, kw_only=True)
class ShareResult:
    """What a helper did with its share.

    Attributes:
        files: The files each job made, by job key (in the order the jobs ran).
        written: The files it wrote (new or changed).
        private_mib: The memory the helper held alone at its end (its pages copied on write and its own
            objects), in MiB; None where the system does not say.
    """

    files: dict[str, tuple[str, ...]]
    written: list[str]
    private_mib: float | None = None


def _render_share(share: list[PageJob], out_dir: Path, note: Callable[[str], None]) -> ShareResult:
    """Render and write a helper's share of the jobs (in the helper process), noting each file before writing it."""
    base = out_dir.resolve()
    files: dict[str, tuple[str, ...]] = {}
    written: list[str] = []
    for job in share:
        made = []
        for page in job.make():
            made.append(page.src_uri)
            if write_page(page, out_dir, base, before=note):
                written.append(page.src_uri)
        files[job.key] = tuple(made)
    return ShareResult(files=files, written=written, private_mib=private_mib())


def _references(bib: Bibliography) -> dict[str, tuple[str, str]]:
    return {key: (bib.bibtex(key), bib.year_label(key)) for key in bib.keys}


def _glossary_entries(site: Site) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Return each glossary entry's names (what essays are matched against) and what a link to it shows."""
    entries = {}
    for record in [*site.terms.values(), *site.concepts.values()]:
        name = getattr(record, "label", None) or getattr(record, "name", "")
        text = getattr(record, "definition", None) or getattr(record, "summary", "")
        entries[record.src_uri] = ((name, *record.also_known_as), (record.title, record.url, text))
    return entries


def changes(
    before: Site, after: Site, old_digests: dict[str, str], new_digests: dict[str, str]
) -> set[str] | None:
    """Return the change tokens between two runs (see `coguide.pages.render.PageJob`), or None: render everything.

    Args:
        before: The last run's model.
        after: This run's model.
        old_digests: The last run's input digests (`Generator.digests`).
        new_digests: This run's.
    """
    files = {
        name
        for name in old_digests.keys() | new_digests.keys()
        if old_digests.get(name) != new_digests.get(name)
    }
    if any(name in WHOLE_SITE_INPUTS or name.startswith(_TEMPLATE_PREFIX) for name in files):
        return None
    if before.info != after.info or before.descriptor != after.descriptor or before.authors != after.authors:
        return None
    tokens = {f"file:{name}" for name in files}
    if any(name.startswith("datapackage/") for name in files):
        tokens.add("package")
    for kind in RECORD_KINDS:
        old, new = getattr(before, kind), getattr(after, kind)
        if len(old) != len(new):
            tokens.add("counts")
        if list(old) != list(new):
            tokens.add(f"kind:{kind}")
        for record_id in old.keys() | new.keys():
            if old.get(record_id) != new.get(record_id):
                tokens.update({f"{kind}:{record_id}", f"kind:{kind}"})
    if before.bibliography is not after.bibliography:
        old_refs, new_refs = _references(before.bibliography), _references(after.bibliography)
        if len(old_refs) != len(new_refs):
            tokens.add("counts")
        if list(old_refs) != list(new_refs):
            tokens.update({"reference-list", "references"})
        for key in old_refs.keys() | new_refs.keys():
            if old_refs.get(key) != new_refs.get(key):
                tokens.update({f"ref:{key}", "references"})
    if before.cited_by != after.cited_by:
        tokens.add("cited_by")
    # The glossary links essays to labels and concepts by their names: a changed name (or a new or deleted
    # entry) may move any link; a changed title or definition changes only the essays that mention the entry.
    old_entries, new_entries = _glossary_entries(before), _glossary_entries(after)
    if "reference-list" in tokens or old_entries.keys() != new_entries.keys():
        tokens.add("glossary")
    for uri, (forms, shown) in new_entries.items():
        if uri not in old_entries or old_entries[uri][0] != forms:
            tokens.add("glossary")
        elif old_entries[uri][1] != shown or any(
            f"ref:{key}" in tokens for key in after.texts.keys(shown[-1])
        ):
            tokens.add(f"glossary:{uri}")
    if before.essays != after.essays:
        tokens.add("essays")
    if before.contributors != after.contributors:
        tokens.add("contributors")
    old_docs = {d.src_uri: d for d in before.documents}
    new_docs = {d.src_uri: d for d in after.documents}
    tokens.update(
        f"doc:{uri}" for uri in old_docs.keys() | new_docs.keys() if old_docs.get(uri) != new_docs.get(uri)
    )
    tokens.update(
        f"doc:{uri}"
        for uri in before.included.keys() | after.included.keys()
        if before.included.get(uri) != after.included.get(uri)
    )
    if before.assets != after.assets:
        tokens.update(f"file:{rel}" for rel in {*before.assets.values(), *after.assets.values()})
    return tokens


class Mentions:
    """Which glossary entries each hand-written page may name, kept between runs.

    They are found again only for a text, or a glossary, not seen in the last run.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._names: dict[str, list[str]] | None = None
        self._found: dict[str, list[str]] = {}

    def find(self, bodies: list[str], names: dict[str, list[str]]) -> list[list[str]]:
        """Return, for each text, the entries (by page) one of whose `names` (casefolded) it contains."""
        last = self._found if names == self._names else {}
        found: dict[str, list[str]] = {}
        for body in bodies:
            if body in found:
                continue
            if body in last:
                found[body] = last[body]
                continue
            text = body.casefold()
            found[body] = [uri for uri, forms in names.items() if any(n in text for n in forms)]
        self._names, self._found = names, found
        return [found[body] for body in bodies]


@dataclass
class Kept:
    """What a `Generator` keeps between runs, so that a run after an edit compiles, compresses and scans less.

    Attributes:
        templates: The templates' compiled code.
        zipped: The data zip's compressed members.
        mentions: The glossary entries each hand-written page may name.
    """

    templates: CompiledTemplates = field(default_factory=CompiledTemplates)
    zipped: ZipMembers = field(default_factory=ZipMembers)
    mentions: Mentions = field(default_factory=Mentions)


def site_jobs(site: Site, root: Path, kept: Kept | None = None) -> list[PageJob]:
    """Return every rendering job of the complete docs tree, each with what it depends on.

    The pages made from the data (`page_jobs`, their front matter completed by `add_page_meta`), the
    hand-written pages with their citations rendered, the redirects for former ids, the data exports, and
    every other file under ``docs/`` as it is. `kept` holds what an earlier run compiled, compressed and
    scanned (`Kept`).
    """
    kept = kept or Kept()
    jobs = [
        PageJob(key=job.key, depends=job.depends, make=lambda job=job: add_page_meta(site, job.make()))
        for job in page_jobs(site, make_environment(site, kept.templates))
    ]
    glossary: list[Glossary] = []

    def written(doc: WrittenPage) -> list[Page]:
        if not glossary:
            glossary.append(make_glossary(site))
        return [render_written_page(site, doc, glossary[0])]

    # Every name an essay may be linked by starts with an entry's name or alternative name.
    names = {
        uri: [n for n in (f.strip().casefold() for f in forms) if n]
        for uri, (forms, _) in _glossary_entries(site).items()
    }
    mentions = kept.mentions.find([doc.body for doc in site.documents], names)
    for doc, mentioned in zip(site.documents, mentions, strict=True):
        keys = set(site.texts.keys(doc.body))
        jobs.append(
            PageJob(
                key=f"written:{doc.src_uri}",
                depends=frozenset(
                    {f"doc:{doc.src_uri}", "essays", "glossary", *(f"ref:{key}" for key in keys)}
                    | {f"glossary:{uri}" for uri in mentioned}
                ),
                make=lambda doc=doc: written(doc),
            )
        )
    redirects = frozenset({"kind:terms", "kind:concepts", "kind:cases"})
    jobs.append(PageJob(key="redirects", depends=redirects, make=lambda: render_redirects(site)))
    jobs += export_jobs(site, zipped=kept.zipped)
    for uri, rel in site.assets.items():
        jobs.append(
            PageJob(
                key=f"asset:{uri}",
                depends=frozenset({f"file:{rel}"}),
                make=lambda uri=uri, rel=rel: [
                    Page(src_uri=uri, content=(root / rel).read_bytes(), source=rel)
                ],
            )
        )
    return jobs
