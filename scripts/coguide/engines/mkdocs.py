"""Engines: the adapter for MkDocs 1.6 and for ProperDocs, its drop-in continuation; the only module that imports either.

The generator has already written the complete docs tree, so the engine only builds it: the adapter loads the
project's ``mkdocs.yml`` with ``docs_dir`` pointed at the tree, adds the small hooks file beside it (edit
links for generated pages, a progress line), calls the plugins' startup and shutdown events as the engine's
command does, and collects every warning the engine logs so the caller can print them whole. For
``coguide bench`` it also times the engine's own steps (`timed_steps`: reading, Markdown, each page's theme
and plugins, the search index).

ProperDocs keeps MkDocs 1.6's Python API under its own package name, ``properdocs``, and redirects every
``mkdocs.*`` import to ``properdocs.*`` once ``properdocs.replacement`` is imported; that is how Material,
mkdocstrings and our hooks file run on it unchanged. Material and mkdocstrings depend on the ``mkdocs``
package, so both engines are always installed side by side; but one process can hold only one of them: after
the redirect, ``import mkdocs`` gives ProperDocs, and plugins already imported against one engine's classes
are not plugins of the other. A build in a process that has already loaded the other engine therefore runs
in a fresh Python process of its own (see `FamilyEngine.build`).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from coguide.engines.base import EngineResult, TreeChanges

#: The environment variable mkdocs.yml reads to turn Material's offline plugin on.
OFFLINE_ENV = "COGUIDE_OFFLINE"
#: The hooks the engine runs for us: engine glue only, none of the generator's stages.
HOOKS = Path(__file__).with_name("mkdocs_hooks.py")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Under ``coguide serve``: a page a browser fetched, or polled the server from, this recently is being viewed
#: (an open tab's livereload script polls at least once a minute while the tab is visible).
VIEWED_SECONDS = 90.0
#: At most this many of the changed pages being viewed are rebuilt before the browsers are told to reload.
FRONT_PAGES = 4
#: Where the search plugin's index is in the site.
SEARCH_INDEX = "search/search_index.json"
_CHILD = (
    "import json, sys; from pathlib import Path; from coguide.engines.base import get_engine; "
    "from dataclasses import asdict; "
    "r = get_engine(sys.argv[1]).build(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), "
    "strict=sys.argv[5] == '1', offline_shim=sys.argv[6] or None); print(json.dumps(asdict(r)))"
)


class _Collect(logging.Handler):
    """Keep every warning and error the engine (or a plugin) logs during a build."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(_ANSI.sub("", record.getMessage()).strip())


@contextmanager
def collect_warnings(package: str = "mkdocs") -> Iterator[_Collect]:
    """Collect the engine's warnings while the block runs.

    MkDocs' loggers are all under ``mkdocs``. ProperDocs logs under ``properdocs`` while plugins still log
    under ``mkdocs``; as the ``properdocs`` command does, the ``mkdocs`` logger is made a child of the
    ``properdocs`` one for the build, so that strict mode counts the plugins' warnings too.
    """
    handler = _Collect()
    logger = logging.getLogger(package)
    legacy = logging.getLogger("mkdocs")
    parent = legacy.parent
    if package != "mkdocs":
        legacy.parent = logger
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        legacy.parent = parent


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """Set an environment variable while the block runs (mkdocs.yml reads some with ``!ENV``)."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _import(package: str, module: str) -> Any:
    """Import `module` of the engine `package` (ProperDocs with its ``mkdocs.*`` redirect in place)."""
    if package == "properdocs":
        importlib.import_module("properdocs.replacement")
    return importlib.import_module(f"{package}.{module}")


def load(
    root: Path,
    docs_dir: Path,
    site_dir: Path | None = None,
    *,
    strict: bool = True,
    package: str = "mkdocs",
    **options: Any,
) -> Any:
    """Load the project's ``mkdocs.yml`` for the docs tree in `docs_dir` (the engine's own config object)."""
    load_config = _import(package, "config").load_config
    extra = {"site_dir": str(site_dir)} if site_dir is not None else {}
    cwd = Path.cwd()
    try:
        os.chdir(root)
        return load_config(
            str(root / "mkdocs.yml"),
            docs_dir=str(docs_dir),
            hooks=[str(HOOKS)],
            strict=strict,
            **extra,
            **options,
        )
    finally:
        os.chdir(cwd)


def loaded_engine() -> str | None:
    """Return which of the two engines this process has imported (``mkdocs``, ``properdocs``), if either."""
    module = sys.modules.get("mkdocs")
    if module is not None:
        return "properdocs" if module.__name__ == "properdocs" else "mkdocs"
    return "properdocs" if "properdocs.replacement" in sys.modules else None


#: The engine's own steps `timed_steps` times: the module of the engine (or of Material) and the function
#: doing the step. ``populate`` holds ``read`` and ``markdown``; ``build_pages`` holds ``search``.
_STEPS = {
    "read": ("structure.pages", "Page.read_source"),
    "markdown": ("structure.pages", "Page.render"),
    "populate": ("commands.build", "_populate_page"),
    "build_pages": ("commands.build", "_build_page"),
    "search": ("material.plugins.search.plugin", "SearchPlugin.on_page_context"),
}


@contextmanager
def timed_steps(package: str) -> Iterator[dict[str, Any]]:
    """Time the engine's own steps in the builds this process runs while the block runs (for `coguide bench`).

    The engine's functions for each step (`_STEPS`) are wrapped with a timer and restored afterwards. The dict
    yielded is filled as pages are built: each step's seconds, and ``markdown_by_folder``, the seconds of
    Markdown conversion of the pages in each top-level folder of the docs tree (a page at the top counts
    under its own name).

    Args:
        package: The engine's package, ``mkdocs`` or ``properdocs``; it is imported here, so a build in the
            block runs in this process (`FamilyEngine.build`).
    """
    seconds: dict[str, float] = dict.fromkeys(_STEPS, 0.0)
    by_folder: dict[str, float] = {}
    steps: dict[str, Any] = {"seconds": seconds, "markdown_by_folder": by_folder}
    restore: list[tuple[Any, str, Any]] = []

    def timer(name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                took = time.perf_counter() - start
                seconds[name] += took
                if name == "markdown" and args:
                    uri = args[0].file.src_uri
                    folder = uri.split("/", 1)[0]
                    by_folder[folder] = by_folder.get(folder, 0.0) + took

        return timed

    for name, (module_name, qualified) in _STEPS.items():
        if module_name.startswith("material."):
            _import(package, "structure.pages")  # Material imports the engine through its redirect
            module = importlib.import_module(module_name)
        else:
            module = _import(package, module_name)
        owner_name, _, attribute = qualified.rpartition(".")
        owner = getattr(module, owner_name) if owner_name else module
        original = owner.__dict__[attribute]
        restore.append((owner, attribute, original))
        setattr(owner, attribute, timer(name, original))
    try:
        yield steps
    finally:
        for owner, attribute, original in reversed(restore):
            setattr(owner, attribute, original)


class FamilyEngine:
    """Build and serve the docs tree with MkDocs 1.6 or with ProperDocs (the same API, another package).

    Attributes:
        name: What `--engine` takes.
        package: The engine's Python package, ``mkdocs`` or ``properdocs``.
    """

    def __init__(self, name: str, package: str) -> None:
        self.name = name
        self.package = package

    def timed_steps(self) -> Any:
        """Time this engine's own steps in the builds run in the block (`timed_steps`); yields the seconds."""
        return timed_steps(self.package)

    def build_offline(self, root: Path, docs_dir: Path, site_dir: Path, *, shim: str) -> EngineResult:
        """Build `docs_dir` for reading from a folder: Material's offline plugin on, `shim` as the Worker polyfill.

        mkdocs.yml enables the plugin when ``COGUIDE_OFFLINE`` is true; the plugin would otherwise load the
        polyfill from another host, so the copy's own `shim` (a path in the site) is named first.
        """
        return self.build(root, docs_dir, site_dir, strict=True, offline_shim=shim)

    def build(
        self,
        root: Path,
        docs_dir: Path,
        site_dir: Path,
        *,
        strict: bool = True,
        offline_shim: str | None = None,
    ) -> EngineResult:
        """Build `docs_dir` into `site_dir`; never raises for a failed build (see `EngineResult`).

        In a process that has already imported the other engine, the build runs in a fresh process.
        """
        if loaded_engine() not in (None, self.package):
            return self._build_apart(root, docs_dir, site_dir, strict=strict, offline_shim=offline_shim)
        build = _import(self.package, "commands.build").build
        engine_error = _import(self.package, "exceptions").MkDocsException

        cwd = Path.cwd()
        config = None
        with collect_warnings(self.package) as collected:
            try:
                if offline_shim is None:
                    config = load(root, docs_dir, site_dir, strict=strict, package=self.package)
                else:
                    with _environment(OFFLINE_ENV, "true"):
                        config = load(root, docs_dir, site_dir, strict=strict, package=self.package)
                    config["extra"]["polyfills"] = [offline_shim]
                os.chdir(root)
                config.plugins.on_startup(command="build", dirty=False)
                build(config)
            except (engine_error, SystemExit) as exc:
                return EngineResult(ok=False, warnings=tuple(collected.messages), error=str(exc) or "aborted")
            except Exception as exc:  # a plugin's own exception: reported, never a traceback
                return EngineResult(
                    ok=False, warnings=tuple(collected.messages), error=f"{type(exc).__name__}: {exc}"
                )
            finally:
                os.chdir(cwd)
                if config is not None:
                    try:
                        config.plugins.on_shutdown()
                    except Exception as exc:
                        collected.messages.append(f"a plugin failed to shut down: {exc}")
        pages = sum(1 for _ in site_dir.rglob("index.html")) if site_dir.is_dir() else None
        return EngineResult(ok=True, warnings=tuple(collected.messages), pages=pages)

    def _build_apart(
        self, root: Path, docs_dir: Path, site_dir: Path, *, strict: bool, offline_shim: str | None = None
    ) -> EngineResult:
        """Build in a fresh Python process (this one has the other engine's modules loaded)."""
        args = [
            self.name,
            str(root),
            str(docs_dir),
            str(site_dir),
            "1" if strict else "0",
            offline_shim or "",
        ]
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, check=False
        )
        try:
            data = json.loads(done.stdout.strip().splitlines()[-1])
            return EngineResult(**{**data, "warnings": tuple(data["warnings"])})
        except (IndexError, ValueError, TypeError):
            tail = " | ".join(done.stderr.strip().splitlines()[-5:])
            return EngineResult(
                ok=False, error=f"the {self.name} build process failed: {tail or 'no output'}"
            )

    def serve(
        self,
        root: Path,
        docs_dir: Path,
        *,
        dev_addr: str,
        clean: bool = False,
        changes: TreeChanges | None = None,
    ) -> None:
        """Serve the docs tree with live reload; the tree is rewritten by the caller as sources change.

        With `changes` (and without `clean`), the adapter runs the engine's server itself and keeps the
        engine's state between edits, so that an edit rebuilds only the pages the generator rewrote (see
        `FastServe`). Otherwise the engine's own ``serve`` watches the tree and rebuilds it on each change.
        """
        if changes is not None and not clean:
            FastServe(self.package, root, docs_dir, dev_addr=dev_addr, changes=changes).serve()
            return
        serve = _import(self.package, "commands.serve").serve

        cwd = Path.cwd()
        os.chdir(root)
        try:
            # The generator rewrites only pages whose content changed, so a dirty rebuild re-renders just
            # those; the engine warns about dirty builds, so the strict setting (for real builds) is relaxed.
            serve(
                str(root / "mkdocs.yml"),
                dev_addr=dev_addr,
                livereload=True,
                build_type="clean" if clean else "dirty",
                docs_dir=str(docs_dir),
                hooks=[str(HOOKS)],
                strict=False,
            )
        finally:
            os.chdir(cwd)


@dataclass
class _Kept:
    """What the engine's last full build left, kept for page-by-page rebuilds.

    Attributes:
        config: The loaded configuration, with its plugins.
        files: Every file of the build (the plugins' included).
        nav: The navigation.
        env: The theme's Jinja environment, after the plugins' ``on_env``.
    """

    config: Any
    files: Any
    nav: Any
    env: Any


def _replace_entries(search: Any, fresh: dict[str, list[Any]]) -> str:
    """Put each page's new search entries where its old ones are, in one pass; return why not, or "".

    A full build adds a page's entries (the page, then its sections, located ``url`` and ``url#anchor``) in
    page order, so the new entries of a page take the place of its old ones.

    Args:
        search: The search plugin's index.
        fresh: The new entries of each rebuilt page, by the page's URL.
    """
    entries: list[Any] = []
    placed: set[str] = set()
    for entry in search.entries:
        url = entry["location"].split("#", 1)[0]
        if url not in fresh:
            entries.append(entry)
        elif url not in placed:
            placed.add(url)
            entries.extend(fresh[url])
    missing = [url for url, new in fresh.items() if new and url not in placed]
    if missing:
        return f"the page at /{missing[0]} had no entry in the search index"
    search.entries[:] = entries
    return ""


class FastServe:
    """Serve the docs tree, rebuilding only the pages the generator rewrote where that gives the same site.

    The engine's own ``serve`` reloads the configuration on every change and runs a (dirty) build: Material's
    blog plugin parses every essay again, the theme's templates are compiled again, and so on, seconds for
    one edited record. Here the first build (and every fallback) is the engine's normal build, run through
    its own ``build`` function with one more plugin that keeps the configuration, files, navigation and Jinja
    environment it ends with (`_Kept`). An edit the generator reports through `TreeChanges` is then rebuilt
    with the engine's own page functions, ``_populate_page`` and ``_build_page`` (the plugins' page events
    run as in a build), on the kept state; the page's entries in the search index are replaced in place and
    the index written again, and the livereload server tells the browser.

    The fast path is taken only where a page-by-page rebuild gives the same site as a full build. Everything
    else takes the fallback, a full build with the configuration loaded afresh:

    - a full generation, or a file added to or removed from the tree (the caller says ``full``);
    - a file the kept build does not know, or one under the blog's folder (an essay's excerpt and date feed
      the blog's index, archive and category pages, which the blog plugin builds from all posts at once);
    - a page that is in the navigation and whose title changed (every page shows the navigation);
    - a page whose entries in the search index cannot be placed where a full build puts them (it had none);
    - a change to ``mkdocs.yml`` or to another path the engine or a plugin watches (no generator push);
    - the first build, and the build after a failed one.

    Files other than pages (data files, images) that the build already has are copied again.

    What a reader looks at comes first. The server notes the pages browsers fetch and poll from (`_server_class`);
    the generator asks for them (`viewed_sources`, through `TreeChanges.viewed`), writes them first and pushes
    them early with the files it may still rewrite (``pending``). The early pages are rebuilt and the browsers
    told to reload at once, while the pending files are held (`Gate`) until the run's last push is rebuilt, as
    the rest of the same version. Within one rebuild, too, the changed pages being viewed are built first.

    Args:
        package: The engine's Python package, ``mkdocs`` or ``properdocs``.
        root: The project folder (where ``mkdocs.yml`` is).
        docs_dir: The docs tree the generator writes.
        dev_addr: ``host:port`` to serve on.
        changes: Where the generator reports the files it rewrote.
    """

    def __init__(
        self, package: str, root: Path, docs_dir: Path, *, dev_addr: str, changes: TreeChanges
    ) -> None:
        self.package = package
        self.root = root
        self.docs_dir = docs_dir
        self.dev_addr = dev_addr
        self.changes = changes
        self.site_dir = ""
        self.serve_url = ""
        self.kept: _Kept | None = None
        self.server: Any = None
        self._shown = False
        self._continuing = False
        self._index_stale = False
        self._sources: tuple[_Kept, dict[str, str]] | None = None
        self.log = logging.getLogger("coguide")
        self._commands = _import(package, "commands.build")
        self._inclusion = _import(package, "structure.files").InclusionLevel.is_in_serve

    def load(self) -> Any:
        """Load the configuration afresh for a build into the served folder, with the state-keeping plugin."""
        config = load(
            self.root,
            self.docs_dir,
            Path(self.site_dir),
            strict=False,
            package=self.package,
            dev_addr=self.dev_addr,
        )
        if self.serve_url:
            config.site_url = self.serve_url
        config.plugins["coguide/keep-state"] = _keeper(self.package, self)
        return config

    def build_all(self, config: Any | None = None) -> None:
        """Build every page with the engine's ``build`` (the configuration loaded afresh unless given)."""
        start = time.perf_counter()
        self.kept = None
        self._index_stale = False
        config = config or self.load()
        self._commands.build(config, serve_url=self.serve_url)
        self.log.info("Built the whole site in %.2f s", time.perf_counter() - start)

    def rebuild(self) -> None:
        """Rebuild after a change: page by page where that is exact, else the whole site (see the class).

        A push that says the generator's run is not over (the pages being viewed, written first) leaves the
        files the run may still rewrite held from readers; the run's last push is rebuilt as the rest of the
        same version (browsers are not told to reload for it again), and then every held file is let through.
        """
        paths, full, pending, pushed = self.changes.take_push()
        server = self.server
        if self._continuing and not pushed:
            # The engine's watcher, not the generator: a file it watches (its configuration, a theme file) was
            # saved while the generator is still writing the rest of a version. Build everything now; what the
            # run may still rewrite stays held, and the run's last push is still taken as its rest.
            self._watched_mid_run()
            return
        resumed, self._continuing = self._continuing, False
        # The first part of this version was shown to the browsers already: a full build must withdraw it.
        self._shown = resumed
        if resumed and pending is None and server is not None:
            # The rest of the version being shown, not a new one (unless a new run's first part came with it).
            with server._epoch_cond:
                server._wanted_epoch = server._visible_epoch
                server._epoch_cond.notify_all()  # a request that came meanwhile waits for no build
        try:
            if pending is not None:
                self._hold_sources(pending)
            if full or self.kept is None or (not paths and not resumed):
                self._withdraw()
                self.build_all()
                return
            if not paths:
                self._write_index()
                self.log.info("Nothing more changed; the site is complete")
                return
            start = time.perf_counter()
            done = self.rebuild_pages(sorted(paths), front=self._viewed(), final=pending is None)
            if isinstance(done, str):
                self.log.info("Rebuilding the whole site: %s", done)
                self._withdraw()
                self.build_all()
            else:
                self.log.info(
                    "Rebuilt %d changed page(s) and copied %d file(s) in %.2f s%s",
                    done[0],
                    done[1],
                    time.perf_counter() - start,
                    "; the generator is writing the rest"
                    if pending is not None
                    else "; the site is complete",
                )
        except Exception as exc:
            self.kept = None  # the next change builds everything again
            self._withdraw()
            self.log.error("The rebuild failed: %s. Fix it and save again.", exc)
        finally:
            if pending is not None and self.kept is not None:
                self._hold_sources(pending)  # mapped again: a full build makes new files
                self._continuing = True
            elif server is not None:
                server.gate.open()

    def _watched_mid_run(self) -> None:
        """Build the whole site for a change the engine's watcher saw while a run's rest is still to come."""
        held = self.server.gate.held() if self.server is not None else frozenset()
        try:
            self._withdraw()
            self.build_all()
        except Exception as exc:
            self.kept = None  # the run's last push builds everything again
            self.log.error("The rebuild failed: %s. Fix it and save again.", exc)
        if self.server is not None:
            self.server.gate.hold(held)  # the files the run may still rewrite, until its last push

    def _hold_sources(self, sources: Iterable[str]) -> None:
        """Hold the site files made from the docs-tree files `sources` (and the search index) from readers."""
        if self.server is None or self.kept is None:
            return
        files = self.kept.files
        held = {SEARCH_INDEX}
        posts = []
        for source in sources:
            file = files.get_file_from_path(source)
            if file is not None:
                held.add(file.dest_uri)
                if file.page is not None and _is_a(file.page, "Post"):
                    posts.append(file.page)
        if posts:
            # The blog's views show the posts' excerpts: those that list a post are held with it.
            for file in files.documentation_pages():
                view = file.page
                if (
                    view is not None
                    and _is_a(view, "View")
                    and any(p is q for p in view.posts for q in posts)
                ):
                    held.add(file.dest_uri)
        self.server.gate.hold(held)

    def viewed_sources(self) -> list[str]:
        """Return the docs-tree paths of the pages being viewed, the latest first (for the generator)."""
        kept = self.kept
        if kept is None:
            return []
        if self._sources is None or self._sources[0] is not kept:
            self._sources = (kept, {file.dest_uri: file.src_uri for file in kept.files})
        by_site = self._sources[1]
        return [by_site[path] for path in self._viewed() if path in by_site]

    def _viewed(self) -> list[str]:
        """Return the site paths of the pages browsers are showing or fetched lately, the latest first."""
        if self.server is None:
            return []
        return self.server.viewed(VIEWED_SECONDS)

    def _show(self, pending: set[str]) -> None:
        """Let browsers reload now, while the files in `pending` (site paths) are held until they are written.

        The server's build loop would tell the browsers only when the whole rebuild is done; the pages built
        so far are final, so they are served at once, and a request for a file still to be rewritten waits.
        """
        server = self.server
        if server is None:
            return
        server.gate.hold(pending)
        with server._epoch_cond:
            server._visible_epoch = server._wanted_epoch
            server._epoch_cond.notify_all()
        self._shown = True

    def _withdraw(self) -> None:
        """After `_show`, hold every request until the build loop ends (a full build follows, or a failure).

        A newer wanted version makes the server hold every request, as during any build, and makes the build
        loop tell the browsers to reload again once the rebuild is over.
        """
        server = self.server
        if server is None or not self._shown:
            return
        with server._epoch_cond:
            server._wanted_epoch = max(server._wanted_epoch + 1, round(time.monotonic() * 1000))
        self._shown = False
        self.log.info(
            "Pages shown before the rest was rebuilt are withdrawn: browsers reload after the full build"
        )

    def rebuild_pages(
        self, paths: list[str], front: list[str] | None = None, *, final: bool = True
    ) -> tuple[int, int] | str:
        """Rebuild the pages among `paths` and copy the other files, on the kept state.

        A blog post is read again as the blog plugin reads it (its front matter must be unchanged), and then
        every blog view (index, archive and category pages) is rebuilt too when what it shows of the post (its
        title and excerpt) changed.

        The pages among `paths` that a browser shows (their site paths in `front`, at most `FRONT_PAGES`) are
        rebuilt first; then the browsers are told to reload (`_show`) while the other pages, the blog views
        that list a changed post, the copied files and the search index are held until they are written. A
        change found after that to need a full build withdraws the reload (`_withdraw`).

        Args:
            paths: The files of the docs tree the generator rewrote.
            front: Site paths (such as ``concepts/power/index.html``) of the pages to show first, by priority.
            final: False when the generator's run has more to push: the search index (held from readers
                meanwhile) is then written after the last push, once.

        Returns:
            How many pages were rebuilt and files copied; or, when the change needs a full build, why (pages
            may have been rebuilt by then: the full build replaces them).
        """
        start = time.perf_counter()
        kept = self.kept
        assert kept is not None
        config, files = kept.config, kept.files
        blog_plugin = _blog(config)
        blog = str(blog_plugin.config.get("blog_dir", "blog")).strip("/") if blog_plugin else ""
        pages: list[Any] = []
        posts: list[Any] = []
        others = []
        for path in paths:
            file = files.get_file_from_path(path)
            if file is None or not file.inclusion.is_in_serve():
                return f"{path} is not among the files the last full build published"
            if file.is_documentation_page():
                if file.page is None:
                    return f"{path} has no page in the last build"
                if blog and (path + "/").startswith(blog + "/"):
                    if not _is_a(file.page, "Post"):
                        return f"{path} is a blog page other than a post"
                    posts.append(file.page)
                pages.append(file.page)
            else:
                others.append(file)
        views = [f.page for f in files.documentation_pages() if f.page is not None and _is_a(f.page, "View")]
        # The views that list each changed post (by id: pages compare by their file's path).
        listing = {id(post): [view for view in views if any(p is post for p in view.posts)] for post in posts}
        rank = {uri: n for n, uri in enumerate(front or ())}
        first = sorted(
            (page for page in pages if page.file.dest_uri in rank), key=lambda p: rank[p.file.dest_uri]
        )
        first = first[:FRONT_PAGES]
        rest = [page for page in pages if not any(page is shown for shown in first)]
        changed_views: list[Any] = []
        search = _search_index(config)
        if first:
            why = self._populate(first, listing, changed_views) or self._build(first)
            if why:
                return why
            held = {page.file.dest_uri for page in rest}
            held.update(view.file.dest_uri for listed in listing.values() for view in listed)
            held.update(file.dest_uri for file in others)
            if search is not None:
                held.add(SEARCH_INDEX)
            self._show(held)
            self.log.info(
                "Rebuilt %d page(s) being viewed in %.2f s: reloading browsers",
                len(first),
                time.perf_counter() - start,
            )
        why = self._populate(rest, listing, changed_views)
        if why:
            return why
        for view in changed_views:
            # After every post was read again: a view renders the excerpts of all the posts it lists.
            self._commands._populate_page(view, config, files)
        why = self._build([*rest, *changed_views])
        if why:
            return why
        for file in others:
            file.copy_file()
        built = len(first) + len(rest) + len(changed_views)
        self._index_stale = self._index_stale or (search is not None and built > 0)
        if final:
            self._write_index()
        return built, len(others)

    def _write_index(self) -> None:
        """Write the search index when rebuilt pages changed its entries since it was last written."""
        if not self._index_stale or self.kept is None:
            return
        search = _search_index(self.kept.config)
        if search is not None:
            data = search.generate_search_index(None)
            (Path(self.kept.config.site_dir) / SEARCH_INDEX).write_bytes(data.encode("utf-8"))
        self._index_stale = False

    def _populate(self, pages: list[Any], listing: dict[int, list[Any]], changed_views: list[Any]) -> str:
        """Read and convert `pages` (blog posts read again first); return why a full build is needed, or "".

        Args:
            pages: The pages to populate.
            listing: For each changed blog post (by ``id``), the views that list it.
            changed_views: Where the views whose post's excerpt or title changed are added (once each).
        """
        kept = self.kept
        assert kept is not None
        config, files, nav = kept.config, kept.files, kept.nav
        blog_plugin = _blog(config)
        separator = blog_plugin.config.post_excerpt_separator if blog_plugin else ""
        in_nav = {id(page) for page in nav.pages}
        for page in pages:
            listed = listing.get(id(page))
            before = None
            if listed is not None:
                # What the views show of the post, before the edit (rendered for the first view that lists it).
                before = _excerpt(page, listed[0], separator) if listed else None
                why = _reread_post(page, config)
                if why:
                    return why
            title = page.title
            self._commands._populate_page(page, config, files)
            if id(page) in in_nav and page.title != title:
                return f"the title of {page.file.src_uri}, which the navigation shows, changed"
            if listed and _excerpt(page, listed[0], separator) != before:
                changed_views.extend(view for view in listed if not any(view is v for v in changed_views))
        return ""

    def _build(self, pages: list[Any]) -> str:
        """Build (template, plugins' events, write) populated `pages`; their search entries replace the old ones.

        Returns:
            Why a full build is needed (a page's entries have no place in the index), or "".
        """
        kept = self.kept
        assert kept is not None
        config, files, nav, env = kept.config, kept.files, kept.nav, kept.env
        if not pages:
            return ""
        autorefs = config.plugins.get("autorefs")
        if autorefs is not None:
            # mkdocstrings' cross-references are resolved in the environment event, over the pages given.
            autorefs.on_env(env, config=config, files=[page.file for page in pages])
        doc_files = files.documentation_pages(inclusion=self._inclusion)
        search = _search_index(config)
        fresh: dict[str, list[Any]] = {}
        for page in pages:
            before = len(search.entries) if search is not None else 0
            self._commands._build_page(
                page, config, doc_files, nav, env, excluded=page.file.inclusion.is_excluded()
            )
            if search is not None:
                fresh[page.url] = search.entries[before:]
                del search.entries[before:]
            page.validate_anchor_links(files=files, log_level=config.validation.links.anchors)
        return _replace_entries(search, fresh) if search is not None else ""

    def serve(self) -> None:
        """Build, then serve with live reload until interrupted; the engine's ``serve`` command, state kept."""
        livereload = _import(self.package, "livereload")
        cwd = Path.cwd()
        self.site_dir = tempfile.mkdtemp(prefix="coguide-serve-")
        os.chdir(self.root)
        config = None
        try:
            config = self.load()
            config.plugins.on_startup(command="serve", dirty=False)
            host, port = config.dev_addr
            mount = urlsplit(config.site_url or "/").path
            config.site_url = self.serve_url = livereload._serve_url(host, port, mount)
            server = _server_class(livereload)(
                builder=self.rebuild, host=host, port=port, root=self.site_dir, mount_path=mount
            )
            server.error_handler = self._error_page
            # The generator pushes once per run, after writing all its files: no need to wait for more.
            server.build_delay = 0.01
            self.build_all(config)

            def wake() -> None:
                # What the server's own file watcher does on a change: ask its build loop for a rebuild.
                with server._rebuild_cond:
                    server._want_rebuild = True
                    server._rebuild_cond.notify_all()

            self.changes.listener = wake
            self.changes.viewed = self.viewed_sources
            # The docs tree is not watched (the generator says what it wrote); the configuration and what
            # plugins ask for are, and a change there rebuilds everything.
            if config.config_file_path:
                server.watch(config.config_file_path)
            server = config.plugins.on_serve(server, config=config, builder=self.rebuild)
            for item in config.watch:
                server.watch(item)
            self.server = server
            try:
                server.serve()
            except KeyboardInterrupt:
                self.log.info("Shutting down...")
            finally:
                self.changes.listener = None
                self.changes.viewed = None
                self.server = None
                server.gate.open()
                server.shutdown()
        finally:
            os.chdir(cwd)
            if config is not None:
                config.plugins.on_shutdown()
            shutil.rmtree(self.site_dir, ignore_errors=True)

    def _error_page(self, code: int) -> bytes | None:
        page = Path(self.site_dir) / f"{code}.html"
        return page.read_bytes() if code in (404, 500) and page.is_file() else None


class Gate:
    """Files of the served site being rewritten: a request for one waits until it is written.

    Thread-safe: the build loop holds and opens, the server's request threads wait.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: frozenset[str] = frozenset()

    def hold(self, paths: Iterable[str]) -> None:
        """Hold requests for `paths` too (site paths, such as ``concepts/power/index.html``) until `open`."""
        with self._cond:
            self._held = self._held.union(paths)

    def open(self) -> None:
        """Let every waiting request through."""
        with self._cond:
            self._held = frozenset()
            self._cond.notify_all()

    def wait(self, path: str) -> None:
        """Return once `path` is not held."""
        with self._cond:
            self._cond.wait_for(lambda: path not in self._held)

    def held(self) -> frozenset[str]:
        """Return the paths held now."""
        with self._cond:
            return self._held


def site_path(path: str, mount_path: str) -> str | None:
    """Return the site file a request for `path` reads, as the livereload server finds it (None: outside the site).

    Args:
        path: The request's path (``/concepts/power/``).
        mount_path: Where the site is mounted, starting and ending with ``/``.
    """
    if not (path + "/").startswith(mount_path):
        return None
    rel = path[len(mount_path) :]
    if path.endswith("/"):
        rel += "index.html"
    return posixpath.normpath("/" + rel).lstrip("/")


def _server_class(livereload: Any) -> Any:
    """Return the engine's livereload server, made to know what is viewed and to hold files being rewritten.

    Each page a browser fetches, and the page each open tab polls for reloads from (the poll's ``Referer``),
    is noted with the time, so a rebuild can start with the pages being viewed (`FastServe.rebuild_pages`).
    A request for a file the `Gate` holds waits until it is written; every other request is served as the
    engine's server serves it (which waits while a build is under way and not yet shown).
    """

    class Server(livereload.LiveReloadServer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.gate = Gate()
            self._viewed: dict[str, float] = {}
            self._viewed_lock = threading.Lock()

        def viewed(self, seconds: float) -> list[str]:
            """Return the site paths of the pages viewed in the last `seconds`, the latest first."""
            now = time.monotonic()
            with self._viewed_lock:
                # Notes older than the window asked for (or than `VIEWED_SECONDS`) are forgotten.
                keep = now - max(seconds, VIEWED_SECONDS)
                self._viewed = {path: at for path, at in self._viewed.items() if at >= keep}
                recent = [(at, path) for path, at in self._viewed.items() if at >= now - seconds]
            return [path for _, path in sorted(recent, reverse=True)]

        def _note(self, path: str | None) -> None:
            if path is not None and path.endswith(".html"):
                with self._viewed_lock:
                    self._viewed[path] = time.monotonic()

        def _serve_request(self, environ: dict[str, Any], start_response: Any) -> Any:
            path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "ignore")
            if path.startswith("/livereload/"):
                # A Referer's path is percent-encoded; the paths the server reads (and notes) are not.
                referer = unquote(urlsplit(environ.get("HTTP_REFERER") or "").path)
                self._note(site_path(referer, self.mount_path) if referer else None)
            else:
                rel = site_path(path, self.mount_path)
                self._note(rel)
                if rel is not None:
                    self.gate.wait(rel)
            return super()._serve_request(environ, start_response)

    return Server


def _blog(config: Any) -> Any:
    """Return Material's blog plugin (None without it)."""
    for name, plugin in config.plugins.items():
        if name.endswith("blog") and hasattr(plugin, "blog"):
            return plugin
    return None


def _excerpt(post: Any, view: Any, separator: str) -> tuple[Any, ...]:
    """Return what `view` shows of `post`: its excerpt rendered as the blog plugin renders it, and its title."""
    excerpt = getattr(post, "excerpt", None)
    if excerpt is None:
        return (post.title,)
    excerpt.render(view, separator)
    return (post.title, excerpt.content, excerpt.more is None, str(excerpt.toc))


def _is_a(page: Any, kind: str) -> bool:
    """Return True when `page` is one of the blog plugin's `kind` (``Post``, ``View``), without importing it."""
    return any(cls.__name__ == kind and "blog" in cls.__module__ for cls in type(page).__mro__)


#: Keys the hooks add to a page's metadata while it is built (not front matter).
_ADDED_META = frozenset({"report_url"})


def _reread_post(post: Any, config: Any) -> str:
    """Read a blog post's file again, as the blog plugin does when it lists the posts; return why not, or "".

    The blog plugin reads a post (front matter and text) once, when it collects the posts, and its page's
    ``read_source`` does nothing; so the text is read here. A post whose front matter changed (date, slug,
    categories, authors: what the views, URLs and archive are built from) needs a full build.
    """
    fresh = type(post)(post.file, config)  # the plugin's own reading; it makes itself the file's page
    post.file.page = post
    old = {key: value for key, value in post.meta.items() if key not in _ADDED_META}
    if fresh.meta != old:
        return f"the front matter of the blog post {post.file.src_uri} changed"
    post.markdown = fresh.markdown
    # What the blog plugin adds to a post while it is populated, as if for the first time.
    post.authors = []
    if "readtime" not in fresh.meta:
        post.config.readtime = None
    return ""


def _search_index(config: Any) -> Any:
    """Return the search plugin's index being built (None without the plugin)."""
    for name, plugin in config.plugins.items():
        if name.endswith("search") and hasattr(plugin, "search_index"):
            return plugin.search_index
    return None


def _keeper(package: str, serving: FastServe) -> Any:
    """Return a plugin that runs last and keeps the build's state in `serving.kept` once the build is done."""
    plugins = _import(package, "plugins")

    class KeepState(plugins.BasePlugin):
        def __init__(self) -> None:
            super().__init__()
            self.nav: Any = None
            self.env: Any = None
            self.files: Any = None

        @plugins.event_priority(-1000)
        def on_nav(self, nav: Any, /, *, config: Any, files: Any) -> Any:
            self.nav = nav
            return nav

        @plugins.event_priority(-1000)
        def on_env(self, env: Any, /, *, config: Any, files: Any) -> Any:
            self.env, self.files = env, files
            return env

        @plugins.event_priority(-1000)
        def on_post_build(self, *, config: Any) -> None:
            serving.kept = _Kept(config=config, files=self.files, nav=self.nav, env=self.env)

    return KeepState()


ENGINE = FamilyEngine("mkdocs", "mkdocs")
