"""Shared fixtures: build small projects from the base fixture plus one overlay per scenario."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import io
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
#: Files of the real project that a fixture project needs to build with MkDocs.
PROJECT_FILES = ("mkdocs.yml", "CONTRIBUTING.md", "docs")


def under_ci() -> bool:
    """Return True when the tests run in continuous integration (GitHub Actions and ``.ci/run`` set ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing_tool(reason: str) -> None:
    """Skip a test whose tool is not installed here, or fail it under CI, which must install every tool.

    Args:
        reason: What is missing and how to install it.
    """
    if under_ci():
        pytest.fail(f"{reason}; with CI set, every tool the tests use must be installed")
    pytest.skip(reason)


def no_children() -> bool:
    """Return True when this process has no child process left to reap (every forked helper was waited for)."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def make_project(dest: Path, *overlays: str, full: bool = False) -> Path:
    """Create a project in `dest`: the real descriptor, the base fixture, then each overlay.

    An overlay may hold a `.delete` file listing paths to remove.
    With `full`, the real mkdocs.yml and hand-written docs (but not the real essays) are copied first,
    so the project can be built with MkDocs.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if full:
        for name in PROJECT_FILES:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("posts"))
            else:
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
    (dest / "datapackage").mkdir(exist_ok=True)
    shutil.copy2(ROOT / "datapackage" / "datapackage.json", dest / "datapackage" / "datapackage.json")
    for layer in ("base", *overlays):
        src = FIXTURES / layer
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".delete"))
        delete = src / ".delete"
        if delete.is_file():
            for rel in delete.read_text().split():
                (dest / rel).unlink()
    return dest


@pytest.fixture
def project(tmp_path: Path):
    """Return a factory: project(*overlays, full=False) -> path of a fresh fixture project."""
    counter = iter(range(1000))

    def factory(*overlays: str, full: bool = False) -> Path:
        return make_project(tmp_path / f"p{next(counter)}", *overlays, full=full)

    return factory


# --- The real site, built once per session and served on 127.0.0.1 (test_site.py, test_browser.py) ---------------

#: Types a static host compresses; GitHub Pages and most others gzip these, and Lighthouse scores what is sent.
_COMPRESSED_TYPES = (
    "text/",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/xml",
)


@dataclass(frozen=True, kw_only=True)
class ServedSite:
    """The real project's site, built once per test session and served over HTTP.

    Attributes:
        path: The built site folder.
        url: The address it is served at, ending in a slash; the build's ``site_url`` too.
    """

    path: Path
    url: str


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a built site quietly, gzipping text as a static host does."""

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output free of one line per request."""

    def end_headers(self) -> None:
        """Add LinkChecker's header: it lifts the checker's politeness delay, which is for other people's hosts."""
        self.send_header("LinkChecker", "local test server")
        super().end_headers()

    def send_head(self) -> object:
        """Send a file gzipped when the client accepts it; anything else (redirects, 404s) as the base class does."""
        url_path = urlsplit(self.path).path
        path = Path(self.translate_path(self.path))
        if path.is_dir() and url_path.endswith("/"):
            path = path / "index.html"
        ctype = self.guess_type(str(path))
        if (
            "gzip" not in self.headers.get("Accept-Encoding", "")
            or not path.is_file()
            or not ctype.startswith(_COMPRESSED_TYPES)
        ):
            return super().send_head()
        data = gzip.compress(path.read_bytes(), mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return io.BytesIO(data)


class QuietServer(http.server.ThreadingHTTPServer):
    """A threading server that does not print a traceback when a browser drops a request it no longer needs."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore connections the client closed; report anything else as the base class does."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def build_real_site(site_dir: Path, site_url: str) -> int:
    """Build the real project into `site_dir` with `site_url` as its address, as the deploy workflow does."""
    from coguide.cli import build_site

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COGUIDE_SITE_URL", site_url)
        return build_site(ROOT, site_dir, verbose=False)


@contextlib.contextmanager
def _served_real_site(
    tmp_path_factory: pytest.TempPathFactory, name: str, handler: type[SiteRequestHandler], path: str
) -> Iterator[ServedSite]:
    """Build the real site for the address of a server on a free port of 127.0.0.1 at `path`, and serve it."""
    site_dir = tmp_path_factory.mktemp(name) / "site"
    # Bind first, so that the build knows its own address (canonical links, sitemap) before it runs.
    server = QuietServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site_dir)))
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    if build_real_site(site_dir, url) != 0:
        server.server_close()
        pytest.fail(f"the real site does not build for {url}: run `.venv/bin/coguide build` to see why")
    serving = _Serving(server, f"{name}-site-server")
    _SERVING.append(serving)
    try:
        yield ServedSite(path=site_dir, url=url)
    finally:
        _SERVING.remove(serving)
        serving.pause()
        server.server_close()


class _Serving:
    """A test server's thread, which a test that needs this process to run alone can pause (`alone`)."""

    def __init__(self, server: http.server.ThreadingHTTPServer, name: str) -> None:
        self.server, self.name = server, name
        self.thread: threading.Thread | None = None
        self.resume()

    def resume(self) -> None:
        """Serve again, in a thread of its own (the socket stayed open, so the address is the same)."""
        self.thread = threading.Thread(target=self.server.serve_forever, name=self.name, daemon=True)
        self.thread.start()

    def pause(self) -> None:
        """Stop serving and end the thread."""
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join()
            self.thread = None


#: The servers of the session's fixtures now running.
_SERVING: list[_Serving] = []


@pytest.fixture
def alone() -> Iterator[None]:
    """Run the test with this process's only thread: the session's test servers pause until it ends.

    The generator forks helper processes only in a process of one thread (see `coguide.forked.can_fork`).
    """
    paused = [serving for serving in _SERVING if serving.thread is not None]
    for serving in paused:
        serving.pause()
    try:
        assert threading.active_count() == 1, f"other threads run: {threading.enumerate()}"
        yield
    finally:
        for serving in paused:
            serving.resume()


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """Build the real site once and serve it on a free port of 127.0.0.1 until the session ends."""
    with _served_real_site(tmp_path_factory, "real", SiteRequestHandler, "/") as site:
        yield site


def site_file(site: Path, url_path: str) -> Path:
    """Return the file a site-relative URL path is served from (``terms/client/`` -> ``terms/client/index.html``)."""
    rel = unquote(url_path).lstrip("/")
    path = site / rel
    return path / "index.html" if rel == "" or rel.endswith("/") or path.is_dir() else path


# --- The real site under a sub-path, as a GitHub Pages project site serves it (https://owner.github.io/repo/) ------

#: The sub-path the site is built for and served under.
SUB_PATH = "/guide-repo/"


class SubPathRequestHandler(SiteRequestHandler):
    """Serve the site only under `SUB_PATH`: any other path, and any missing file, gets ``404.html`` with status 404.

    That is what GitHub Pages does for a project site, so a link that climbs above the sub-path breaks here too.
    """

    def send_head(self) -> object:
        """Answer a path under the sub-path from the site; anything else with the site's 404 page."""
        url_path = urlsplit(self.path).path
        if url_path.startswith(SUB_PATH):
            inner = "/" + url_path[len(SUB_PATH) :]
            path = Path(self.translate_path(inner))
            if path.is_file() or (path.is_dir() and (path / "index.html").is_file()):
                self.path = inner
                return super().send_head()
        page = Path(self.directory) / "404.html"
        data = page.read_bytes() if page.is_file() else b"Not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        return io.BytesIO(data)

    def end_headers(self) -> None:
        """Add the sub-path to the address of a redirect the base class makes for a folder without its slash."""
        headers = getattr(self, "_headers_buffer", [])
        for index, line in enumerate(headers):
            if line.lower().startswith(b"location: /") and not line[10:].startswith(SUB_PATH.encode()):
                headers[index] = b"Location: " + SUB_PATH.rstrip("/").encode() + line[10:]
        super().end_headers()


@pytest.fixture(scope="session")
def subpath_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSite]:
    """Build the real site for an address with a sub-path and serve it only under that sub-path."""
    with _served_real_site(tmp_path_factory, "subpath", SubPathRequestHandler, SUB_PATH) as site:
        yield site
