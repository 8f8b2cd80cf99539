"""CLI: ``coguide check | build | serve | refs | cite | new | bench | overlap | rename``, acting on the project in the current folder."""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from coguide.errors import Problem, errors_only


def _project(args: argparse.Namespace) -> Path:
    root = Path(args.project).resolve()
    if not (root / "datapackage" / "datapackage.json").is_file() and not (root / "mkdocs.yml").is_file():
        raise SystemExit(f"coguide: {root} is not a coguide project (no datapackage/datapackage.json)")
    return root


def cmd_check(args: argparse.Namespace) -> int:
    """Run every check and print every problem; exit 1 if any is an error."""
    from coguide.source.validate import check_project

    start = time.perf_counter()
    root = _project(args)
    problems = check_project(root) + _output_problems(root)
    for problem in problems:
        if problem.severity == "warning" and not args.warnings:
            continue
        print(problem.format_github() if args.format == "github" else problem.format())
    errors = errors_only(problems)
    warnings = len(problems) - len(errors)
    summary = f"{len(errors)} error(s), {warnings} warning(s) in {time.perf_counter() - start:.2f}s"
    if warnings and not args.warnings:
        summary += " (show warnings with --warnings)"
    print(summary, file=sys.stderr)
    return 1 if errors else 0


def _last_commit_epoch(root: Path) -> str:
    """Return the last commit's time as a Unix timestamp, or "" outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "log", "-1", "--format=%ct"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def build_site(
    root: Path,
    site_dir: Path,
    *,
    verbose: bool = True,
    how: str = "--site-dir",
    engine: str | None = None,
    workers: int | None = None,
) -> int:
    """Check, generate and build the site into a scratch folder next to `site_dir`, then swap it in.

    The site folder is checked first (`coguide.outputs.check_output_dir`); builds of one project take turns;
    what killed builds left behind is cleaned up; a failure at any stage leaves `site_dir` exactly as it was.

    Args:
        root: The project folder.
        site_dir: Where the site goes.
        verbose: Print each stage's time.
        how: How the site folder was chosen, for the fix in a refusal.
        engine: The engine to build with (default: `coguide.engines.base.DEFAULT_ENGINE`).
        workers: How many processes generate the docs tree (default: one per processor; see
            `coguide.build.generate`).

    Returns:
        The exit status: 0 on success, 1 when the sources or the MkDocs build fail, 2 when the output
        folders are refused or cannot be written.
    """
    from coguide.build import GENERATED_DIR
    from coguide.outputs import OutputError, build_lock, check_output_dir

    root = root.resolve()
    try:
        check_output_dir(
            root, site_dir, kind="site", fix=f"choose another folder with {how}", reserved=(GENERATED_DIR,)
        )
        site_dir = Path(os.path.abspath(site_dir))
        site_dir.parent.mkdir(parents=True, exist_ok=True)
        with build_lock(root):
            return _build_locked(root, site_dir, verbose=verbose, engine_name=engine, workers=workers)
    except OutputError as exc:
        print(f"coguide: {exc}", file=sys.stderr)
        return 2


#: Set (to ``true``) by the deploy workflow: a build without the site's address then fails.
REQUIRE_SITE_URL = "COGUIDE_REQUIRE_SITE_URL"


def _is_site_url(value: str) -> bool:
    """Return True for an absolute http(s) address with a host (``https://owner.github.io/repo/``)."""
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _no_site_url_message(value: str, *, required: bool) -> str:
    """Return the loud notice for a build without the site's address (an error when one is required)."""
    what = (
        f"the site URL {value!r} is not an absolute http(s) address"
        if value.strip()
        else "no site URL is set"
    )
    level = "error" if required else "WARNING"
    return (
        f'coguide: {level}: {what}, so "Cite this page", the Atom feed, the citation meta tags and the '
        "structured data carry bare paths instead of full addresses. Set COGUIDE_SITE_URL to the address the site "
        "is published at, e.g. COGUIDE_SITE_URL=https://owner.github.io/repo/ .venv/bin/coguide build"
        + (f" ({REQUIRE_SITE_URL} is set, so the site was not built)" if required else "")
    )


def interactive() -> bool:
    """Return True when progress may be drawn: standard error is a terminal and this is not a CI run."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class StageLines:
    """The stage lines of ``coguide build``: drawn with rich in a terminal, plain lines everywhere else.

    In a terminal a line names what is running and each finished stage is printed as it ends. The line is
    redrawn only when a stage ends, never by a thread of its own: the generator forks helper processes only
    while it runs alone (see `coguide.forked`). Elsewhere (CI logs, a pipe, the tests) the lines are the plain ``coguide: <stage> <seconds>s`` they have
    always been, printed once the generator is done, with no escape codes.
    """

    def __init__(self, *, verbose: bool, console: Any = None) -> None:
        """Draw with `console` (a `rich.console.Console`), or with a new one on standard error if it is a terminal."""
        self.verbose = verbose
        if console is None and interactive():
            from rich.console import Console

            console = Console(stderr=True, highlight=False)
        self.console = console
        self._status: Any = None

    @property
    def live(self) -> bool:
        """True when lines are drawn as the stages run (a terminal), False when printed afterwards."""
        return self.console is not None

    def running(self, what: str) -> None:
        """Show that `what` is running (a line in a terminal, drawn without a thread; nothing otherwise)."""
        if self.console is None:
            return
        from rich.live import Live
        from rich.spinner import Spinner

        spinner = Spinner("dots", text=f"[bold]coguide:[/] {what}…")
        if self._status is None:
            self._status = Live(spinner, console=self.console, auto_refresh=False, transient=True)
            self._status.start(refresh=True)
        else:
            self._status.update(spinner, refresh=True)

    def stop(self) -> None:
        """Remove the line (before the engine draws its own page counter, or at the end)."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def stage(self, stage: str, seconds: float) -> None:
        """Report a finished stage and its time (only with ``verbose``)."""
        if not self.verbose:
            return
        if self.console is None:
            print(f"coguide: {stage:<8} {seconds:6.2f}s", file=sys.stderr)
        else:
            self.console.print(f"[bold]coguide:[/] {stage:<8} [green]{seconds:6.2f}s[/]", highlight=False)
            if self._status is not None:
                self._status.refresh()


def _build_locked(
    root: Path, site_dir: Path, *, verbose: bool, engine_name: str | None = None, workers: int | None = None
) -> int:
    """Build the site, holding the project's build lock (see `build_site`)."""
    from coguide.build import generate, read_site_settings
    from coguide.engines.base import EngineUnavailable, get_engine
    from coguide.offline import OfflineError, build_offline_copy
    from coguide.outputs import (
        check_replaceable,
        clean_stale,
        make_scratch,
        normalise_permissions,
        recover,
        remove_marked,
        swap_in,
    )

    lines = StageLines(verbose=verbose)
    report = lines.stage
    try:
        engine = get_engine(engine_name)
    except EngineUnavailable as exc:
        print(f"coguide: {exc}", file=sys.stderr)
        return 2
    restored = recover(site_dir)
    if restored:
        print(f"coguide: {restored}", file=sys.stderr)
    for warning in clean_stale(site_dir):
        print(f"coguide: warning: {warning}", file=sys.stderr)
    check_replaceable(site_dir)
    settings = read_site_settings(root)
    scratch = make_scratch(site_dir)
    staging = scratch / "site"
    # Plugins make temporary folders as they load (the blog plugin keeps its category pages in one and removes
    # it only on shutdown): they are made inside the scratch folder, so nothing is left in the system's.
    previous_tempdir = tempfile.tempdir
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        tempfile.tempdir = str(scratch / "tmp")
        if not _is_site_url(settings.url):
            required = os.environ.get(REQUIRE_SITE_URL, "").strip().lower() in {"1", "true", "yes"}
            print(_no_site_url_message(settings.url, required=required), file=sys.stderr)
            if required:
                return 1
        if lines.live:
            lines.running("generating the docs tree")
            try:
                generation = generate(
                    root, site_name=settings.name, site_url=settings.url, report=report, workers=workers
                )
            finally:
                lines.stop()
        else:
            generation = generate(root, site_name=settings.name, site_url=settings.url, workers=workers)
            for stage, seconds in generation.timings.items():
                report(stage, seconds)
        errors = errors_only(generation.problems)
        if errors:
            for problem in errors:
                print(problem.format())
            print(
                f"coguide: {len(errors)} error(s); the site was not built and {site_dir} is unchanged",
                file=sys.stderr,
            )
            return 1
        start = time.perf_counter()
        # Reproducible output: the sitemap's dates follow the last commit, not the clock.
        epoch = previous_epoch or _last_commit_epoch(root)
        if epoch:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
        result = engine.build(root, generation.out_dir, staging, strict=True)
        for message in result.warnings:
            print(f"coguide: {engine.name}: {message}", file=sys.stderr)
        if not result.ok:
            print(
                f"coguide: the {engine.name} build failed ({result.error}); {site_dir} is unchanged",
                file=sys.stderr,
            )
            return 1
        report(engine.name, time.perf_counter() - start)
        start = time.perf_counter()
        if hasattr(engine, "build_offline"):
            try:
                build_offline_copy(engine, root, generation.out_dir, staging, scratch / "offline")
            except OfflineError as exc:
                print(f"coguide: {exc}; {site_dir} is unchanged", file=sys.stderr)
                return 1
            report("offline", time.perf_counter() - start)
        else:
            print(
                f"coguide: warning: the {engine.name} engine cannot build the offline copy, so the site has no "
                "downloads/offline-copy.zip and the Offline copy page's link leads nowhere",
                file=sys.stderr,
            )
        normalise_permissions(staging)
        swap_in(scratch, site_dir)
    finally:
        tempfile.tempdir = previous_tempdir
        if previous_epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        try:
            remove_marked(scratch)
        except OSError as exc:
            print(
                f"coguide: warning: could not delete {scratch} ({exc}); "
                "the next build tries again, or delete it by hand",
                file=sys.stderr,
            )
    if verbose:
        print(f"coguide: site built in {site_dir}", file=sys.stderr)
    return 0


def _configured_site_dir(root: Path) -> Path:
    """Return the site folder mkdocs.yml names (``site_dir``, relative to it), or ``site/`` when it names none.

    A mkdocs.yml that does not load gives ``site/`` too: the check reports the broken file.
    """
    from coguide.source.load import read_config

    # Read as plain YAML, not with an engine's loader: importing one engine here would tie the build to it.
    value = read_config(root, []).get("site_dir")
    return root / str(value if isinstance(value, str) and value else "site")


def _output_problems(root: Path) -> list[Problem]:
    """Return a problem for each output folder a build would refuse: a pull request can change either."""
    from coguide.build import GENERATED_DIR, GENERATED_FIX
    from coguide.outputs import OutputError, check_output_dir

    config_file = root / "mkdocs.yml"
    lines = (
        config_file.read_text(encoding="utf-8", errors="replace").splitlines()
        if config_file.is_file()
        else []
    )
    line = next((n for n, text in enumerate(lines, 1) if re.match(r"site_dir\s*:", text)), None)
    checks = (
        (
            "mkdocs.yml",
            line,
            _configured_site_dir(root),
            "site",
            "set site_dir in mkdocs.yml to a folder of its own",
        ),
        (GENERATED_DIR, None, root / GENERATED_DIR, "generated", GENERATED_FIX),
    )
    problems = []
    for path, at, folder, kind, fix in checks:
        reserved = (GENERATED_DIR,) if kind == "site" else ()
        try:
            check_output_dir(root, folder, kind=kind, fix=fix, reserved=reserved, contents=False)
        except OutputError as exc:
            problems.append(Problem(path=path, line=at, code="unsafe-output", message=str(exc)))
    return problems


def positive_int(text: str) -> int:
    """Read a command-line count of one or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def cmd_build(args: argparse.Namespace) -> int:
    """Build the site atomically."""
    root = _project(args)
    if args.site_dir:
        return build_site(
            root, Path(args.site_dir), how="--site-dir", engine=args.engine, workers=args.workers
        )
    return build_site(
        root,
        _configured_site_dir(root),
        how="site_dir in mkdocs.yml or --site-dir",
        engine=args.engine,
        workers=args.workers,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the site with live reload: the docs tree is regenerated whenever a source changes."""
    import threading

    from coguide.build import GENERATED_DIR, Generator, input_fingerprint, read_site_settings
    from coguide.engines.base import EngineUnavailable, TreeChanges, get_engine

    root = _project(args)
    try:
        engine = get_engine(args.engine)
    except EngineUnavailable as exc:
        print(f"coguide: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s -  %(message)s")
    settings = read_site_settings(root)
    # The generator keeps its last run, so an edit re-renders only the pages it reaches (see `Generator`).
    generator = Generator(root, site_name=settings.name, site_url=settings.url)
    # What each run rewrote goes to the engine, which rebuilds just those pages where it can.
    changes = TreeChanges()
    tree: list[set[str]] = []

    def regenerate() -> bool:
        start = time.perf_counter()
        # The pages readers are looking at are written and handed to the engine first (see `TreeChanges`).
        sent: list[str] = []

        def early(written: list[str], pending: list[str]) -> None:
            if tree:
                changes.push(written, pending=pending)
                sent.extend(written)

        try:
            viewed = changes.viewed() if changes.viewed is not None else []
        except Exception:  # which pages come first is only an ordering: never a reason to stop serving
            viewed = []
        try:
            generation = generator.run(first=viewed, early=early)
        except BaseException:
            if sent:
                changes.push([])  # the run is over: the engine stops holding back what it might have changed
            raise
        for problem in errors_only(generation.problems):
            print(problem.format(), file=sys.stderr)
        if generation.ok:
            files = set(generation.files)
            # A page added or removed changes what the engine lists: it must rebuild everything.
            full = bool(tree) and (generation.full or files != tree[-1])
            done = set(sent)
            rest = [path for path in generation.written if path not in done]
            if tree and (rest or full or sent):
                changes.push(rest, full=full)
            tree[:] = [files]
        elif sent:
            changes.push([])
        if generation.ok and not generation.full:
            logging.getLogger("coguide").info(
                "Regenerated %d of %d pages in %.2f s; %d changed",
                len(generation.rendered),
                len(generation.files),
                time.perf_counter() - start,
                len(generation.written),
            )
        return generation.ok

    if not regenerate():
        print("coguide: fix the problems above, then run coguide serve again", file=sys.stderr)
        return 1
    stop = threading.Event()

    # This loop keeps the docs tree in step with the sources. Only pages whose content changed are rewritten,
    # and the engine is told which (or, with an engine that cannot use that, sees them in the tree it watches).
    def watch() -> None:
        seen = input_fingerprint(root)
        while not stop.wait(0.1):
            now = input_fingerprint(root)
            if now != seen:
                seen = now
                regenerate()

    thread = threading.Thread(target=watch, name="coguide-watch", daemon=True)
    thread.start()
    try:
        engine.serve(root, root / GENERATED_DIR, dev_addr=args.dev_addr, clean=args.clean, changes=changes)
    finally:
        stop.set()
    return 0


def cmd_refs(args: argparse.Namespace) -> int:
    """Print the APA reference list of a .bib file (or of some keys)."""
    from coguide.cite import Bibliography

    bib, problems = Bibliography.parse(Path(args.bib).read_text(encoding="utf-8-sig"))
    for problem in problems:
        print(f"{args.bib}:{problem.line}: [{problem.code}] {problem.message}", file=sys.stderr)
    keys = [k.strip() for k in args.keys.split(",") if k.strip()] if args.keys else None
    missing = [k for k in keys or () if k not in bib]
    for key in missing:
        hint = bib.suggest(key)
        print(
            f'{args.bib}: [unknown-citation] "{key}" is not in the file'
            + (f' (did you mean "{hint}"?)' if hint else ""),
            file=sys.stderr,
        )
    for line in bib.reference_list([k for k in keys if k in bib] if keys else None, args.format):
        print(line)
    return 1 if missing or any(p.code == "bibtex-syntax" for p in problems) else 0


def cmd_cite(args: argparse.Namespace) -> int:
    """Render the citations in a text."""
    from coguide.cite import Bibliography, find_citations

    bib, _ = Bibliography.parse(Path(args.bib).read_text(encoding="utf-8-sig"))
    unknown = [i.key for c in find_citations(args.text) for i in c.items if i.key not in bib]
    for key in unknown:
        hint = bib.suggest(key)
        print(
            f'[unknown-citation] "{key}" is not in {args.bib}'
            + (f' (did you mean "{hint}"?)' if hint else ""),
            file=sys.stderr,
        )
    text, _keys = bib.render_text(args.text, args.format)
    print(text)
    return 1 if unknown else 0


def make_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed so the docs test can list every command)."""
    parser = argparse.ArgumentParser(prog="coguide", description=__doc__)
    parser.add_argument("--project", default=".", help="the project folder (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="run every check and print every problem")
    check.add_argument("--format", choices=("text", "github"), default="text")
    check.add_argument(
        "--warnings",
        action="store_true",
        help="also print warnings (unused references, title words sentence case would lowercase, organisations read as people)",
    )
    check.set_defaults(func=cmd_check)

    from coguide.engines.base import DEFAULT_ENGINE, ENGINES

    engine_help = "the site engine: " + "; ".join(
        f"{info.name} ({info.summary}, {info.status})" for info in ENGINES.values()
    )
    build = sub.add_parser("build", help="check, generate and build the site atomically")
    build.add_argument("--site-dir", help="where to build (default: site_dir of mkdocs.yml, or site/)")
    build.add_argument("--engine", choices=tuple(ENGINES), default=DEFAULT_ENGINE, help=engine_help)
    build.add_argument(
        "--workers",
        type=positive_int,
        help="how many processes generate the docs tree (default: one per processor; never more than 8)",
    )
    build.set_defaults(func=cmd_build)

    serve = sub.add_parser("serve", help="serve the site with live reload")
    serve.add_argument("--engine", choices=tuple(ENGINES), default=DEFAULT_ENGINE, help=engine_help)
    serve.add_argument("--dev-addr", default="127.0.0.1:8000")
    serve.add_argument("--clean", action="store_true", help="rebuild every page on each change (slower)")
    serve.set_defaults(func=cmd_serve)

    refs = sub.add_parser("refs", help="print the APA reference list of a .bib file")
    refs.add_argument("bib")
    refs.add_argument("--format", choices=("text", "html", "markdown"), default="text")
    refs.add_argument("--keys", help="comma-separated keys (default: every entry)")
    refs.set_defaults(func=cmd_refs)

    cite = sub.add_parser("cite", help="render the citations in a text")
    cite.add_argument("text")
    cite.add_argument("--bib", required=True)
    cite.add_argument("--format", choices=("text", "html", "markdown"), default="text")
    cite.set_defaults(func=cmd_cite)

    # Commands whose code lives in a module of its own; each module offers add_arguments() and run().
    for name, module, text in (
        ("new", "scaffold", "start a new record or essay from a valid skeleton"),
        ("bench", "bench", "time each stage on a synthetic package of N records"),
        ("overlap", "overlap", "find prose that repeats a source's wording word for word"),
        ("rename", "rename", "change a record's id everywhere, keeping the old address as a redirect"),
    ):
        sub_parser = sub.add_parser(name, help=text)
        sub_parser.set_defaults(func=_delegate(module))
        _module(module).add_arguments(sub_parser)
    # Newcomers type `coguide build --project DIR`: accept the project after the command as well as before.
    # SUPPRESS keeps the value given before the command when none is given after it.
    for sub_parser in sub.choices.values():
        sub_parser.add_argument("--project", default=argparse.SUPPRESS, help="the project folder")
    return parser


def _module(name: str):
    import importlib

    return importlib.import_module(f"coguide.tools.{name}")


def _delegate(name: str):
    def run(args: argparse.Namespace) -> int:
        return int(_module(name).run(args) or 0)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    # Material prints a notice about a future MkDocs 2 on every build; it is not about this project.
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    os.environ.setdefault("DISABLE_MKDOCS_2_WARNING", "true")
    args = make_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
