"""`coguide serve`: an edit is rebuilt page by page where that is exact, and then serves what a full build does.

Each test runs the real server in a process of its own on a fixture project, edits sources as a person would,
and reads the pages over HTTP. What a page-by-page rebuild serves is compared with what a fresh server (whose
first build is the engine's full build of the same tree) serves for the same pages, the livereload script the
server injects left out.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coguide.engines.base import TreeChanges
from coguide.tools.bench import _fetch, _free_port

#: The script the livereload server puts before ``</body>`` of every HTML page it serves.
LIVERELOAD = re.compile(rb"<script>\s*var livereload = function.*?</script>", re.DOTALL)
CONCEPT = "concepts/power/"
ESSAY = "blog/2026/01/05/a-fixture-essay/"
#: The pages compared with a full build: the edited concept, the essay, the blog's index and the search index.
COMPARED = (CONCEPT, ESSAY, "blog/", "glossary/", "search/search_index.json")


class Server:
    """A ``coguide serve`` process on a free port, with its log."""

    def __init__(self, root: Path, port: int, *options: str) -> None:
        self.base = f"http://127.0.0.1:{port}/"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-m", "coguide.cli", "--project", str(root), "serve", *options]
        self.process = subprocess.Popen(
            [*command, "--dev-addr", f"127.0.0.1:{port}"],
            cwd=root,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        """Return what the server has logged so far."""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def get(self, path: str) -> bytes:
        """Return the page at `path`, the livereload script left out (fails when it is not served)."""
        body = _fetch(self.base + path)
        assert body is not None, f"{path} is not served:\n{self.text()[-3000:]}"
        return LIVERELOAD.sub(b"", body)

    def wait(self, path: str, needle: bytes, timeout: float = 240.0) -> None:
        """Wait until the page at `path` holds `needle`."""
        start = time.monotonic()
        while needle not in (_fetch(self.base + path) or b""):
            assert self.process.poll() is None, f"coguide serve ended:\n{self.text()[-3000:]}"
            assert time.monotonic() - start < timeout, f"{needle!r} not at {path}:\n{self.text()[-3000:]}"
            time.sleep(0.1)

    def wait_log(self, needle: str, count: int = 1, timeout: float = 240.0) -> None:
        """Wait until the log holds `needle` `count` times."""
        start = time.monotonic()
        while self.text().count(needle) < count:
            assert self.process.poll() is None, f"coguide serve ended:\n{self.text()[-3000:]}"
            assert time.monotonic() - start < timeout, f"{needle!r} not logged:\n{self.text()[-3000:]}"
            time.sleep(0.1)

    def stop(self) -> None:
        """Interrupt the server as Ctrl-C does, and wait for it to end."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@contextmanager
def serving(root: Path, port: int, *options: str) -> Iterator[Server]:
    """Run ``coguide serve`` in `root` until the block ends; its first build is done when the block starts."""
    server = Server(root, port, *options)
    try:
        server.wait_log("Serving on")
        yield server
    finally:
        server.stop()


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a file with `new` (as an editor saves it)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_tree_changes_gathers_pushes_until_taken() -> None:
    changes = TreeChanges()
    woken = []
    changes.listener = lambda: woken.append(1)
    changes.push(["a.md"])
    changes.push(["b.md", "a.md"])
    assert changes.take() == (frozenset({"a.md", "b.md"}), False)
    assert changes.take() == (frozenset(), False)
    changes.push([], full=True)
    assert changes.take() == (frozenset(), True)
    assert len(woken) == 3


@pytest.mark.parametrize("engine", ["properdocs", "mkdocs"])
def test_edits_rebuilt_page_by_page_serve_what_a_full_build_does(project, engine: str) -> None:
    root = project(full=True)
    port = _free_port()
    essay = root / "docs" / "blog" / "posts" / "a-fixture-essay.md"
    with serving(root, port, "--engine", engine) as server:
        assert b"Served summary marker" not in server.get(CONCEPT)
        # A record's text: its page and the pages that show the record are rebuilt one by one.
        edit(
            root / "datapackage" / "concepts.csv",
            "The capacity to shape what others do.",
            "The capacity to shape what others do. Served summary marker.",
        )
        server.wait(CONCEPT, b"Served summary marker")
        server.wait_log("changed page(s)", 1)
        # An essay's text, front matter untouched: the post is read again and rebuilt on its own (with the
        # blog's index and archive pages when its excerpt changed).
        edit(essay, "A client is not a service user", "A client (essay marker) is not a service user")
        server.wait(ESSAY, b"essay marker")
        server.wait_log("changed page(s)", 2)
        log = server.text()
        assert "Rebuilding the whole site" not in log, log[-3000:]
        assert log.count("Built the whole site") == 1, log[-3000:]
        served = {path: server.get(path) for path in COMPARED}
    assert b"essay marker" in served["blog/"]
    with serving(root, port, "--engine", engine) as fresh:
        full = {path: fresh.get(path) for path in COMPARED}
    different = [path for path in COMPARED if served[path] != full[path]]
    assert different == [], (
        f"served after a page-by-page rebuild, but not as a full build has them: {different}"
    )


def test_an_edit_a_page_cannot_take_rebuilds_the_whole_site(project) -> None:
    root = project(full=True)
    port = _free_port()
    essay = root / "docs" / "blog" / "posts" / "a-fixture-essay.md"
    with serving(root, port) as server:
        # An essay's front matter: its date, categories and description feed the blog's lists and URLs.
        edit(essay, "description: A fixture essay.", "description: A fixture essay, described anew.")
        server.wait(ESSAY, b"described anew")
        server.wait_log("Built the whole site", 2)
        assert "the front matter of the blog post blog/posts/a-fixture-essay.md changed" in server.text()
        served = {path: server.get(path) for path in COMPARED}
    with serving(root, port) as fresh:
        full = {path: fresh.get(path) for path in COMPARED}
    assert [path for path in COMPARED if served[path] != full[path]] == []


def test_clean_serve_keeps_the_engines_own_rebuild(project) -> None:
    root = project(full=True)
    server = Server(root, _free_port(), "--clean")
    try:
        server.wait(CONCEPT, b"</html>")
        edit(
            root / "datapackage" / "concepts.csv",
            "The capacity to shape what others do.",
            "The capacity to shape what others do. Clean marker.",
        )
        server.wait(CONCEPT, b"Clean marker")
        assert "changed page(s)" not in server.text()
    finally:
        server.stop()
