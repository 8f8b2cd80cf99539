"""Engines: the MkDocs 1.6 adapter, the only module that imports MkDocs.

The generator has already written the complete docs tree, so MkDocs only builds it: the adapter loads the
project's ``mkdocs.yml`` with ``docs_dir`` pointed at the tree, adds the small hooks file beside it (edit
links for generated pages, a progress line), calls the plugins' startup and shutdown events as the `mkdocs`
command does, and collects every warning MkDocs logs so the caller can print them whole.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coguide.engines.base import EngineResult

#: The environment variable mkdocs.yml reads to turn Material's offline plugin on.
OFFLINE_ENV = "COGUIDE_OFFLINE"
#: The hooks MkDocs runs for us: engine glue only, none of the generator's stages.
HOOKS = Path(__file__).with_name("mkdocs_hooks.py")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Collect(logging.Handler):
    """Keep every warning and error MkDocs (or a plugin) logs during a build."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(_ANSI.sub("", record.getMessage()).strip())


@contextmanager
def collect_warnings() -> Iterator[_Collect]:
    """Collect MkDocs' warnings (its loggers are all under ``mkdocs``) while the block runs."""
    handler = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


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


def load(root: Path, docs_dir: Path, site_dir: Path | None = None, *, strict: bool = True, **options):
    """Load the project's ``mkdocs.yml`` for the docs tree in `docs_dir` (MkDocs' own config object)."""
    from mkdocs.config import load_config

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


class MkDocsEngine:
    """Build and serve the docs tree with MkDocs 1.6."""

    name = "mkdocs"

    def build(self, root: Path, docs_dir: Path, site_dir: Path, *, strict: bool = True) -> EngineResult:
        """Build `docs_dir` into `site_dir`; never raises for a failed build (see `EngineResult`)."""
        return self._build(root, docs_dir, site_dir, strict=strict)

    def build_offline(self, root: Path, docs_dir: Path, site_dir: Path, *, shim: str) -> EngineResult:
        """Build `docs_dir` for reading from a folder: Material's offline plugin on, `shim` as the Worker polyfill.

        mkdocs.yml enables the plugin when ``COGUIDE_OFFLINE`` is true; the plugin would otherwise load the
        polyfill from another host, so the copy's own `shim` (a path in the site) is named first.
        """
        return self._build(root, docs_dir, site_dir, strict=True, shim=shim)

    def _build(
        self, root: Path, docs_dir: Path, site_dir: Path, *, strict: bool, shim: str | None = None
    ) -> EngineResult:
        from mkdocs.commands.build import build
        from mkdocs.exceptions import MkDocsException

        cwd = Path.cwd()
        config = None
        with collect_warnings() as collected:
            try:
                if shim is None:
                    config = load(root, docs_dir, site_dir, strict=strict)
                else:
                    with _environment(OFFLINE_ENV, "true"):
                        config = load(root, docs_dir, site_dir, strict=strict)
                    config["extra"]["polyfills"] = [shim]
                os.chdir(root)
                config.plugins.on_startup(command="build", dirty=False)
                build(config)
            except (MkDocsException, SystemExit) as exc:
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

    def serve(self, root: Path, docs_dir: Path, *, dev_addr: str, clean: bool = False) -> None:
        """Serve the docs tree with live reload; the tree is rewritten by the caller as sources change."""
        from mkdocs.commands.serve import serve

        cwd = Path.cwd()
        os.chdir(root)
        try:
            # The generator rewrites only pages whose content changed, so a dirty rebuild re-renders just
            # those; MkDocs warns about dirty builds, so the strict setting (for real builds) is relaxed.
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


ENGINE = MkDocsEngine()
