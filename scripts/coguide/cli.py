"""CLI: ``coguide check | build | serve | refs | cite | new | bench | overlap | rename``, acting on the project in the current folder."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from coguide.errors import errors_only


def _project(args: argparse.Namespace) -> Path:
    root = Path(args.project).resolve()
    if not (root / "datapackage" / "datapackage.json").is_file() and not (root / "mkdocs.yml").is_file():
        raise SystemExit(f"coguide: {root} is not a coguide project (no datapackage/datapackage.json)")
    return root


def cmd_check(args: argparse.Namespace) -> int:
    """Run every check and print every problem; exit 1 if any is an error."""
    from coguide.validate import check_project

    start = time.perf_counter()
    problems = check_project(_project(args))
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


def _swap_in(new_dir: Path, site_dir: Path) -> None:
    """Replace `site_dir` with `new_dir` so that readers never see a half-built site."""
    old = site_dir.with_name(site_dir.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if site_dir.exists():
        site_dir.rename(old)
    new_dir.rename(site_dir)
    if old.exists():
        shutil.rmtree(old)


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


def build_site(root: Path, site_dir: Path, *, verbose: bool = True) -> int:
    """Check, generate and build the site into a temporary folder, then swap it in.

    A failure at any stage leaves `site_dir` exactly as it was.

    Returns:
        The exit status: 0 on success, 1 on failure.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    from coguide.build import generate_cached

    cwd = Path.cwd()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.build-", dir=site_dir.parent))
    try:
        os.chdir(root)
        config = load_config(str(root / "mkdocs.yml"), site_dir=str(staging), strict=True)
    finally:
        os.chdir(cwd)

    def report(stage: str, seconds: float) -> None:
        if verbose:
            print(f"coguide: {stage:<8} {seconds:6.2f}s", file=sys.stderr)

    generation = generate_cached(root, site_name=config.site_name, site_url=config.site_url or "")
    for stage, seconds in generation.timings.items():
        report(stage, seconds)
    errors = errors_only(generation.problems)
    if errors:
        shutil.rmtree(staging, ignore_errors=True)
        for problem in errors:
            print(problem.format())
        print(
            f"coguide: {len(errors)} error(s); the site was not built and {site_dir} is unchanged",
            file=sys.stderr,
        )
        return 1
    start = time.perf_counter()
    # Reproducible output: the sitemap's dates follow the last commit, not the clock.
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or _last_commit_epoch(root)
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    try:
        os.chdir(root)
        if epoch:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
        build(config)
    except (MkDocsException, SystemExit, Exception) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"coguide: the MkDocs build failed ({exc}); {site_dir} is unchanged", file=sys.stderr)
        return 1
    finally:
        os.chdir(cwd)
        if previous_epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
    report("mkdocs", time.perf_counter() - start)
    _swap_in(staging, site_dir)
    if verbose:
        print(f"coguide: site built in {site_dir}", file=sys.stderr)
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Build the site atomically."""
    root = _project(args)
    site_dir = Path(args.site_dir).resolve() if args.site_dir else root / "site"
    return build_site(root, site_dir)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the site with live reload of data, essays and templates."""
    from mkdocs.commands.serve import serve

    root = _project(args)
    os.chdir(root)
    logging.basicConfig(level=logging.INFO, format="%(levelname)-7s -  %(message)s")
    # The generator rewrites only pages whose content changed, so a "dirty" rebuild re-renders just those;
    # MkDocs warns about dirty builds, so the strict setting (meant for real builds) is relaxed here.
    serve(
        str(root / "mkdocs.yml"),
        dev_addr=args.dev_addr,
        livereload=True,
        build_type="clean" if args.clean else "dirty",
        strict=False,
    )
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

    build = sub.add_parser("build", help="check, generate and build the site atomically")
    build.add_argument("--site-dir", help="where to build (default: site/)")
    build.set_defaults(func=cmd_build)

    serve = sub.add_parser("serve", help="serve the site with live reload")
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
    return parser


def _module(name: str):
    import importlib

    return importlib.import_module(f"coguide.{name}")


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
