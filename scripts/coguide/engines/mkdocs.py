"""Engines: the adapter for MkDocs 1.6 and for ProperDocs, its drop-in continuation; the only module that imports either.

The generator has already written the complete docs tree, so the engine only builds it: the adapter loads the
project's ``mkdocs.yml`` with ``docs_dir`` pointed at the tree, adds the small hooks file beside it (edit
links for generated pages, a progress line), calls the plugins' startup and shutdown events as the engine's
command does, and collects every warning the engine logs so the caller can print them whole.

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
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coguide.engines.base import EngineResult

#: The environment variable mkdocs.yml reads to turn Material's offline plugin on.
OFFLINE_ENV = "COGUIDE_OFFLINE"
#: The hooks the engine runs for us: engine glue only, none of the generator's stages.
HOOKS = Path(__file__).with_name("mkdocs_hooks.py")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
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


class FamilyEngine:
    """Build and serve the docs tree with MkDocs 1.6 or with ProperDocs (the same API, another package).

    Attributes:
        name: What `--engine` takes.
        package: The engine's Python package, ``mkdocs`` or ``properdocs``.
    """

    def __init__(self, name: str, package: str) -> None:
        self.name = name
        self.package = package

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

    def serve(self, root: Path, docs_dir: Path, *, dev_addr: str, clean: bool = False) -> None:
        """Serve the docs tree with live reload; the tree is rewritten by the caller as sources change."""
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


ENGINE = FamilyEngine("mkdocs", "mkdocs")
