"""Engines: the one small interface every site engine's adapter offers, and the registry of adapters.

The generator hands an engine a complete docs tree (hand-written pages with citations rendered, generated
pages, exports, redirects). An adapter builds that tree into a folder, serves it with live reload, and passes
on every warning the engine gave, whole. Nothing outside ``coguide.engines`` imports an engine.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class EngineResult:
    """What one engine build produced.

    Attributes:
        ok: True when the engine built the site without an error (or, in strict mode, a warning).
        warnings: Every warning and error the engine reported, whole, one message each.
        error: Why the build failed, when it did.
        pages: How many pages the engine built (when it says).
    """

    ok: bool
    warnings: tuple[str, ...] = ()
    error: str = ""
    pages: int | None = None


class Engine(Protocol):
    """A site engine's adapter."""

    name: str

    def build(self, root: Path, docs_dir: Path, site_dir: Path, *, strict: bool = True) -> EngineResult:
        """Build the docs tree in `docs_dir` into `site_dir`, with the project's ``mkdocs.yml``."""
        ...

    def build_offline(self, root: Path, docs_dir: Path, site_dir: Path, *, shim: str) -> EngineResult:
        """Build the docs tree for reading from a folder (``file://``), search included, with no other host.

        `shim` is the site path of a script standing in for Web Workers, which browsers refuse to such pages.
        """
        ...

    def serve(
        self,
        root: Path,
        docs_dir: Path,
        *,
        dev_addr: str,
        clean: bool = False,
        changes: TreeChanges | None = None,
    ) -> None:
        """Serve the docs tree with live reload until interrupted.

        With `changes`, the caller says which files of the tree it rewrote, so the engine may rebuild only
        those; without it (or where the engine cannot use it) the engine watches the tree itself.
        """
        ...


class TreeChanges:
    """The files of the docs tree the generator rewrote under ``coguide serve``, handed to the engine.

    The generator's thread calls `push` after each run; the engine's rebuild calls `take` (or `take_run`),
    which returns everything pushed since the last take. The engine sets `listener` to be told when a push
    arrives, and may set `viewed` to say which pages readers are looking at, so that the generator writes
    those first and pushes them early (with the files that may still change as `pending`), then the rest.

    Attributes:
        listener: Called (in the pushing thread) after each push, or None.
        viewed: Returns the docs-tree paths of the pages readers are looking at, the latest first; or None.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: set[str] = set()
        self._full = False
        self._pending: frozenset[str] | None = None
        self._pushed = False
        self.listener: Callable[[], None] | None = None
        self.viewed: Callable[[], list[str]] | None = None

    def push(self, paths: Iterable[str], *, full: bool = False, pending: Iterable[str] | None = None) -> None:
        """Record that `paths` (relative to the docs tree, with ``/``) were rewritten.

        Args:
            paths: The files written.
            full: True when the whole tree may have changed (a full generation, a file added or removed):
                the engine must rebuild every page.
            pending: When the run is not over: the files it may still rewrite (the engine holds them back
                from readers until the run's last push, one without `pending`, has been rebuilt).
        """
        with self._lock:
            self._paths.update(paths)
            self._full = self._full or full
            self._pending = None if pending is None else frozenset(pending)
            self._pushed = True
            listener = self.listener
        if listener is not None:
            listener()

    def take(self) -> tuple[frozenset[str], bool]:
        """Return the paths pushed since the last call and whether a full rebuild was asked for; then forget them."""
        paths, full, _ = self.take_run()
        return paths, full

    def take_run(self) -> tuple[frozenset[str], bool, frozenset[str] | None]:
        """Return what `take` does, and the files the run may still rewrite (None: the run is over)."""
        paths, full, pending, _ = self.take_push()
        return paths, full, pending

    def take_push(self) -> tuple[frozenset[str], bool, frozenset[str] | None, bool]:
        """Return what `take_run` does, and whether anything was pushed since the last take.

        A rebuild that finds nothing pushed was asked for by the engine's own watcher (its configuration or a
        theme file changed), not by the generator.
        """
        with self._lock:
            paths, full, pending, pushed = frozenset(self._paths), self._full, self._pending, self._pushed
            self._paths.clear()
            self._full = False
            self._pending = None
            self._pushed = False
        return paths, full, pending, pushed


@dataclass(frozen=True, kw_only=True)
class EngineInfo:
    """An engine the guide can be built with.

    Attributes:
        name: What `--engine` takes.
        module: The adapter's module under ``coguide.engines``.
        status: ``default``, ``supported`` or ``experimental``.
        summary: One line for `--help` and the docs.
    """

    name: str
    module: str
    status: str
    summary: str


ENGINES: dict[str, EngineInfo] = {
    info.name: info
    for info in (
        EngineInfo(
            name="properdocs",
            module="coguide.engines.properdocs",
            status="default",
            summary="ProperDocs, the maintained continuation of MkDocs 1.x, with Material",
        ),
        EngineInfo(
            name="mkdocs",
            module="coguide.engines.mkdocs",
            status="supported",
            summary="MkDocs 1.6 with Material",
        ),
        EngineInfo(
            name="zensical",
            module="coguide.engines.zensical",
            status="experimental",
            summary="Zensical, Material's successor (install with .[zensical])",
        ),
    )
}
#: ProperDocs is maintained, reads mkdocs.yml and runs Material and mkdocstrings unchanged; MkDocs 1.x is not.
DEFAULT_ENGINE = "properdocs"


class EngineUnavailable(Exception):
    """The engine asked for is not installed or not known."""


def get_engine(name: str | None = None) -> Engine:
    """Return the adapter of the engine `name` (default: `DEFAULT_ENGINE`).

    Raises:
        EngineUnavailable: The name is unknown, or the engine is not installed (with the fix).
    """
    name = name or DEFAULT_ENGINE
    info = ENGINES.get(name)
    if info is None:
        raise EngineUnavailable(f'unknown engine "{name}": choose one of {", ".join(ENGINES)}')
    try:
        module = importlib.import_module(info.module)
    except ImportError as exc:
        raise EngineUnavailable(
            f"the {name} engine is not installed ({exc}): run `make setup`, or install it with pip"
        ) from None
    return module.ENGINE
