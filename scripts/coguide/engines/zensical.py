"""Engines: the Zensical adapter (experimental), the only module that imports Zensical.

Zensical is Material for MkDocs's successor by the same team: a Rust core that reads ``mkdocs.yml`` for
compatibility, renders Material's theme itself and runs no third-party MkDocs plugins (it maps a list of
known ones, ``blog``, ``search`` and ``mkdocstrings`` among them, onto its own modules). The docs tree the
generator writes holds every page already, so Zensical only has to build it.

Zensical resolves ``docs_dir`` and ``site_dir`` against the folder of its configuration file and refuses
either outside it, and it takes no ``docs_dir`` option on its command. The adapter therefore writes a small
configuration beside ``mkdocs.yml`` for the length of the build (``INHERIT: mkdocs.yml`` with the tree and the
output folder), builds into a scratch folder inside the project when the output folder is elsewhere, and
moves the result into place. The build runs in a Python process of its own: the Rust core prints its
diagnostics (with file, line and column) straight to the process's standard error, which the adapter reads
and passes on, one message each.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import zensical

from coguide.engines.base import EngineResult, TreeChanges
from coguide.outputs import mark

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LEVEL = re.compile(r"^(?P<level>Warning|Error):\s*(?P<text>.+)$")
_WHERE = re.compile(r"╭─\[\s*(?P<where>[^\]]+?)\s*\]")
_CHILD = "import sys, zensical; zensical.build(sys.argv[1], {'strict': sys.argv[2] == '1', 'clean': True})"
_SERVE = "import sys, zensical; zensical.serve(sys.argv[1], {'dev_addr': sys.argv[2], 'open': False, 'strict': False})"


def version() -> str:
    """Return the installed Zensical's version."""
    return zensical.version()


def diagnostics(output: str) -> list[str]:
    """Return Zensical's warnings and errors in `output`, one line each, as ``file:line:col: level: text``.

    Zensical draws each diagnostic as a box: a ``Warning: text`` line, then a frame whose first line names
    the place (``╭─[ about.md:12:83 ]``) and the source line quoted. Lines outside a diagnostic (progress,
    the count of issues) are left out, except a Python error's last line, which says why a build stopped.
    """
    lines = [_ANSI.sub("", line).rstrip() for line in output.splitlines()]
    found: list[str] = []
    for number, line in enumerate(lines):
        match = _LEVEL.match(line.strip())
        if not match:
            continue
        where = ""
        for follow in lines[number + 1 : number + 3]:
            located = _WHERE.search(follow)
            if located:
                where = located.group("where") + ": "
                break
        found.append(f"{where}{match.group('level').lower()}: {match.group('text')}")
    return found


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _config(root: Path, docs_dir: Path, site_dir: Path) -> Path:
    """Write the build's configuration beside ``mkdocs.yml``: everything from it, and the two folders."""
    handle, name = tempfile.mkstemp(prefix=".coguide-zensical-", suffix=".yml", dir=root)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(
            "# Written by coguide for one Zensical build and deleted after it.\n"
            "INHERIT: mkdocs.yml\n"
            f"docs_dir: {docs_dir.resolve().relative_to(root.resolve()).as_posix()!r}\n"
            f"site_dir: {site_dir.resolve().relative_to(root.resolve()).as_posix()!r}\n"
        )
    return Path(name)


class ZensicalEngine:
    """Build and serve the docs tree with Zensical (experimental)."""

    name = "zensical"

    def build(self, root: Path, docs_dir: Path, site_dir: Path, *, strict: bool = True) -> EngineResult:
        """Build `docs_dir` into `site_dir`; never raises for a failed build (see `EngineResult`)."""
        root = root.resolve()
        if not _inside(docs_dir, root):
            return EngineResult(
                ok=False, error=f"Zensical builds only a docs tree inside the project ({docs_dir} is not)"
            )
        # Zensical writes only inside the configuration's folder: build there, then move the site into place.
        build_dir = (
            site_dir
            if _inside(site_dir, root)
            else Path(tempfile.mkdtemp(prefix=".zensical.build-", dir=root))
        )
        config = _config(root, docs_dir, build_dir)
        try:
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(config), "1" if strict else "0"],
                cwd=root,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
                env={**os.environ, "TMPDIR": tempfile.gettempdir()},
            )
            messages = diagnostics(done.stderr)
            if done.returncode != 0:
                last = next((line for line in reversed(done.stderr.splitlines()) if line.strip()), "")
                return EngineResult(
                    ok=False, warnings=tuple(messages), error=_ANSI.sub("", last) or "aborted"
                )
            if build_dir != site_dir:
                site_dir.mkdir(parents=True, exist_ok=True)
                for entry in build_dir.iterdir():
                    shutil.move(str(entry), str(site_dir / entry.name))
        finally:
            config.unlink(missing_ok=True)
            if build_dir != site_dir:
                shutil.rmtree(build_dir, ignore_errors=True)
        mark(site_dir)
        pages = sum(1 for _ in site_dir.rglob("index.html"))
        return EngineResult(ok=True, warnings=tuple(messages), pages=pages)

    def serve(
        self,
        root: Path,
        docs_dir: Path,
        *,
        dev_addr: str,
        clean: bool = False,
        changes: TreeChanges | None = None,
    ) -> None:
        """Serve the docs tree with live reload until interrupted (`clean` is Zensical's default).

        Zensical watches the docs tree itself, so `changes` (the files the generator rewrote) is not used.

        Zensical's server ends its process on an interrupt without returning to Python, so it runs in a
        process of its own, and this one deletes the configuration and the build folder afterwards.
        """
        root = root.resolve()
        build_dir = Path(tempfile.mkdtemp(prefix=".zensical.build-", dir=root))
        config = _config(root, docs_dir, build_dir)
        try:
            subprocess.run([sys.executable, "-c", _SERVE, str(config), dev_addr], cwd=root, check=False)
        except KeyboardInterrupt:
            pass
        finally:
            config.unlink(missing_ok=True)
            shutil.rmtree(build_dir, ignore_errors=True)


ENGINE = ZensicalEngine()
