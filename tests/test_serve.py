"""`coguide serve`: an edit is rebuilt page by page where that is exact, and then serves what a full build does.

Each test runs the real server in a process of its own on a fixture project, edits sources as a person would,
and reads the pages over HTTP. What a page-by-page rebuild serves is compared with what a fresh server (whose
first build is the engine's full build of the same tree) serves for the same pages, the livereload script the
server injects left out.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from coguide.build import Generator, generate
from coguide.engines.base import TreeChanges
from coguide.engines.mkdocs import _server_class, site_path
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
    # A run's first push says what may still change; its last push (without it) ends the run.
    changes.push(["a.md"], pending=["b.md", "c.md"])
    assert changes.take_run() == (frozenset({"a.md"}), False, frozenset({"b.md", "c.md"}))
    changes.push(["a.md"], pending=["b.md"])
    changes.push(["b.md"])
    assert changes.take_run() == (frozenset({"a.md", "b.md"}), False, None)
    # Whether anything was pushed at all: a rebuild with no push was the engine's own watcher.
    changes.push([])
    assert changes.take_push() == (frozenset(), False, None, True)
    assert changes.take_push() == (frozenset(), False, None, False)


def test_a_watched_file_saved_while_the_rest_is_written_builds_all_and_keeps_the_rest_held(
    tmp_path: Path,
) -> None:
    from coguide.engines.mkdocs import FastServe, Gate

    changes = TreeChanges()
    # Made without its constructor, which imports an engine: this process may hold the other one already.
    fast = FastServe.__new__(FastServe)
    fast.changes, fast.log = changes, logging.getLogger("coguide")
    fast._shown = fast._continuing = fast._index_stale = False
    fast._sources = None
    server = SimpleNamespace(
        gate=Gate(), _epoch_cond=threading.Condition(), _wanted_epoch=1, _visible_epoch=1, viewed=lambda _: []
    )
    fast.server = server
    calls: list[str] = []

    def build_all(config=None):
        calls.append("all")
        fast.kept = SimpleNamespace(files=SimpleNamespace(get_file_from_path=lambda _: None))

    fast.build_all = build_all  # type: ignore[method-assign]
    fast.rebuild_pages = lambda paths, front=None, *, final=True: (
        calls.append(f"pages {sorted(paths)}") or (1, 0)
    )  # type: ignore[method-assign]
    fast.kept = SimpleNamespace(files=SimpleNamespace(get_file_from_path=lambda _: None))
    # The generator's early push: the page being viewed, with what the run may still rewrite.
    changes.push(["concepts/power.md"], pending=["glossary/index.md"])
    fast.rebuild()
    assert calls == ["pages ['concepts/power.md']"]
    held = server.gate.held()
    assert "search/search_index.json" in held
    # The engine's watcher (mkdocs.yml saved) before the generator's last push: everything is built, and what
    # the run may still rewrite stays held.
    fast.rebuild()
    assert calls[-1] == "all"
    assert server.gate.held() == held
    # The generator's last push is the rest of the version: rebuilt, then every held file let through.
    changes.push(["glossary/index.md"])
    fast.rebuild()
    assert calls[-1] == "pages ['glossary/index.md']"
    assert server.gate.held() == frozenset()


def test_the_pages_being_viewed_are_written_first_and_the_tree_equals_a_full_generation(
    project, tmp_path: Path
) -> None:
    root = project(full=True)
    generator = Generator(root)
    assert generator.run().ok
    edit(
        root / "datapackage" / "concepts.csv",
        "The capacity to shape what others do.",
        "The capacity to shape what others do. Early marker.",
    )
    out = root / "generated"
    calls: list[tuple[list[str], list[str]]] = []

    def early(written: list[str], pending: list[str]) -> None:
        # Only the page being viewed is written yet; the glossary, which shows the summary too, is to come.
        assert "Early marker" in (out / "concepts" / "power.md").read_text(encoding="utf-8")
        assert "Early marker" not in (out / "glossary" / "index.md").read_text(encoding="utf-8")
        calls.append((written, pending))

    result = generator.run(first=["concepts/power.md"], early=early)
    assert result.ok
    assert len(calls) == 1 and calls[0][0] == ["concepts/power.md"]
    assert "glossary/index.md" in calls[0][1] and "concepts/power.md" not in calls[0][1]
    assert {"concepts/power.md", "glossary/index.md"} <= set(result.written)
    fresh = generate(root, tmp_path / "fresh")
    ours = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    theirs = {
        p.relative_to(fresh.out_dir).as_posix(): p.read_bytes()
        for p in fresh.out_dir.rglob("*")
        if p.is_file()
    }
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
    # A page the edit does not reach is not written early: the run writes everything in one burst.
    edit(root / "datapackage" / "concepts.csv", "Early marker.", "Early marker again.")
    assert generator.run(first=["about.md"], early=early).ok
    assert len(calls) == 1


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
        # The concept's page was being viewed: it was rebuilt and shown first. The glossary, which shows the
        # summary too, is held until it is rewritten: never served as it was before the edit.
        assert b"Served summary marker" in server.get("glossary/")
        server.wait_log("the site is complete", 1)
        log = server.text()
        assert "Rebuilt 1 page(s) being viewed" in log, log[-3000:]
        assert log.index("Rebuilt 1 page(s) being viewed") < log.index("the site is complete"), log[-3000:]
        # An essay's text, front matter untouched, while the essay is viewed: the post is read again and
        # rebuilt first, then the blog's index and archive pages (its excerpt changed) after it.
        assert b"essay marker" not in server.get(ESSAY)
        shown = server.text().count("page(s) being viewed")
        edit(essay, "A client is not a service user", "A client (essay marker) is not a service user")
        server.wait(ESSAY, b"essay marker")
        server.wait_log("the site is complete", 2)
        log = server.text()
        assert log.count("page(s) being viewed") > shown, log[-3000:]
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


def test_a_full_build_found_needed_after_the_viewed_page_was_shown_withdraws_it(project) -> None:
    root = project(full=True)
    port = _free_port()
    essay = root / "docs" / "blog" / "posts" / "a-fixture-essay.md"
    with serving(root, port) as server:
        assert b"Withdrawn marker" not in server.get(CONCEPT)  # the concept's page is being viewed
        # One save of two files: the concept's page is shown first, then the essay's front matter needs a
        # full build, which every request waits for.
        edit(essay, "description: A fixture essay.", "description: A fixture essay, described anew.")
        edit(
            root / "datapackage" / "concepts.csv",
            "The capacity to shape what others do.",
            "The capacity to shape what others do. Withdrawn marker.",
        )
        server.wait_log("Built the whole site", 2)
        log = server.text()
        assert "Rebuilt 1 page(s) being viewed" in log, log[-3000:]
        assert "the front matter of the blog post blog/posts/a-fixture-essay.md changed" in log, log[-3000:]
        assert "withdrawn: browsers reload after the full build" in log, log[-3000:]
        served = {path: server.get(path) for path in COMPARED}
    assert b"Withdrawn marker" in served[CONCEPT] and b"described anew" in served[ESSAY]
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


class _EngineServer:
    """Stands in for the engine's livereload server: serves the files under `root` (``/livereload/`` polls: 0)."""

    def __init__(self, root: Path, mount_path: str = "/") -> None:
        self.root = root
        self.mount_path = mount_path

    def _serve_request(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"].startswith("/livereload/"):
            return [b"0"]
        rel = site_path(environ["PATH_INFO"], self.mount_path)
        assert rel is not None
        return [(self.root / rel).read_bytes()]


def test_site_path_is_the_file_the_server_reads() -> None:
    assert site_path("/concepts/power/", "/") == "concepts/power/index.html"
    assert site_path("/sub/concepts/power/", "/sub/") == "concepts/power/index.html"
    assert site_path("/sub/search/search_index.json", "/sub/") == "search/search_index.json"
    assert site_path("/sub/../../etc/passwd", "/sub/") == "etc/passwd"  # normalised, as the server does
    assert site_path("/other/page/", "/sub/") is None


def test_a_held_file_waits_until_written_while_the_others_are_served(tmp_path: Path) -> None:
    for rel, text in (("a/index.html", b"a before"), ("b/index.html", b"b")):
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_bytes(text)
    server = _server_class(SimpleNamespace(LiveReloadServer=_EngineServer))(tmp_path)
    server.gate.hold({"a/index.html"})
    got: list[list[bytes]] = []
    waiting = threading.Thread(target=lambda: got.append(server._serve_request({"PATH_INFO": "/a/"}, None)))
    waiting.start()
    # A file not held is served at once, while the held one waits.
    assert server._serve_request({"PATH_INFO": "/b/"}, None) == [b"b"]
    waiting.join(timeout=0.5)
    assert waiting.is_alive() and got == []
    (tmp_path / "a" / "index.html").write_bytes(b"a after")
    server.gate.open()
    waiting.join(timeout=10)
    assert got == [[b"a after"]]


def test_the_server_notes_the_pages_being_viewed_latest_first(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_bytes(b"a")
    (tmp_path / "style.css").write_bytes(b"")
    server = _server_class(SimpleNamespace(LiveReloadServer=_EngineServer))(tmp_path, "/sub/")
    server._serve_request({"PATH_INFO": "/sub/a/"}, None)
    time.sleep(0.01)
    server._serve_request({"PATH_INFO": "/sub/style.css"}, None)  # not a page
    # An open tab's livereload poll names the page it shows in its Referer.
    poll = {"PATH_INFO": "/livereload/1/2", "HTTP_REFERER": "http://127.0.0.1:8000/sub/c/"}
    assert server._serve_request(poll, None) == [b"0"]
    assert server.viewed(60) == ["c/index.html", "a/index.html"]
    # The Referer is percent-encoded, the paths the server reads are not.
    encoded = {"PATH_INFO": "/livereload/1/2", "HTTP_REFERER": "http://127.0.0.1:8000/sub/caf%C3%A9-essay/"}
    server._serve_request(encoded, None)
    assert server.viewed(60)[0] == "café-essay/index.html"
    time.sleep(0.05)
    assert server.viewed(0.01) == []
