"""Offline copy: a second MkDocs build, for reading from a folder (``file://``), zipped into the published site.

Material's offline plugin (enabled by ``COGUIDE_OFFLINE=true``, see mkdocs.yml) turns directory URLs off and
inlines the search index; browsers refuse Web Workers to ``file://`` pages, so the search worker runs through
the iframe-worker shim, served from ``docs/assets/vendor/`` rather than the plugin's default, another host.
Links written as HTML by the generator (citations, figures, tables) point at directory URLs such as
``../terms/client/``; in the offline copy they are pointed at the page's file (``../terms/client.html``).
"""

from __future__ import annotations

import os
import posixpath
import re
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from coguide.outputs import MARKER

#: Where the zip is published, relative to the site root.
OFFLINE_ZIP = "downloads/offline-copy.zip"
#: The folder the zip unpacks to.
OFFLINE_FOLDER = "client-patient-customer-citizen"
#: The environment variable mkdocs.yml reads to enable the offline plugin.
OFFLINE_ENV = "COGUIDE_OFFLINE"
#: The Worker stand-in, relative to the site root (its path must name iframe-worker: see the offline plugin).
SHIM = "assets/vendor/iframe-worker/shim.js"

_LINK = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


class OfflineError(Exception):
    """The offline copy could not be built."""


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def online_dir(rel: str) -> str:
    """Return the directory URL an offline page stands for: ``terms/client.html`` -> ``terms/client/``.

    >>> online_dir("terms/index.html"), online_dir("index.html"), online_dir("blog/2026/a.html")
    ('terms/', '', 'blog/2026/a/')
    """
    if rel == "index.html":
        return ""
    if rel.endswith("/index.html"):
        return rel.removesuffix("index.html")
    return rel.removesuffix(".html") + "/"


def offline_target(site: Path, page: str, href: str) -> str | None:
    """Return the offline form of a link on one page of the offline copy, or None to keep it as it is.

    A relative link that already leads to a file is kept. Otherwise it was written for directory URLs, so it is
    read from the directory the page stands for (`online_dir`) and pointed at the file serving that address.

    Args:
        site: The offline copy's folder.
        page: The page's path in it (``terms/client.html``).
        href: The link as written (``../../bibliography/#key``).
    """
    parts = urlsplit(href)
    path = parts.path
    if parts.scheme or parts.netloc or not path or path.startswith("/"):
        return None
    here = posixpath.dirname(page)
    if (site / posixpath.normpath(posixpath.join(here, path))).is_file():
        return None
    target = posixpath.normpath(posixpath.join(online_dir(page), path))
    if target.startswith(".."):
        return None
    target = "" if target == "." else target
    candidates = [target] if target and not path.endswith("/") and path not in (".", "..") else []
    candidates += [posixpath.join(target, "index.html"), f"{target}.html"] if target else ["index.html"]
    for candidate in candidates:
        if (site / candidate).is_file():
            rel = posixpath.relpath(candidate, here or ".")
            query = f"?{parts.query}" if parts.query else ""
            return rel + query + (f"#{parts.fragment}" if parts.fragment else "")
    return None


def point_links_at_files(site: Path) -> int:
    """Point every directory link in the offline copy's pages at the file that serves it.

    Returns:
        The number of links changed.
    """
    changed = 0
    for file in sorted(site.rglob("*.html")):
        page = file.relative_to(site).as_posix()
        text = file.read_text(encoding="utf-8")
        count = 0

        def swap(match: re.Match[str], page: str = page) -> str:
            nonlocal count
            new = offline_target(site, page, match.group(2))
            if new is None:
                return match.group(0)
            count += 1
            return match.group(1) + new + match.group(3)

        updated = _LINK.sub(swap, text)
        if count:
            file.write_text(updated, encoding="utf-8")
            changed += count
    return changed


def zip_folder(folder: Path, dest: Path, prefix: str) -> None:
    """Zip `folder` into `dest` under one top folder, in a stable order with stable dates."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or 315532800)  # 1980-01-01, the earliest a zip can hold
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER):
            info = zipfile.ZipInfo(f"{prefix}/{path.relative_to(folder).as_posix()}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())


def build_offline_copy(root: Path, site_dir: Path, work: Path) -> Path:
    """Build the offline copy of the project in `root` and zip it into the (scratch) site folder `site_dir`.

    Args:
        root: The project folder.
        site_dir: The site being built; the zip goes to `OFFLINE_ZIP` inside it.
        work: An empty scratch folder for the offline build.

    Returns:
        The zip's path.

    Raises:
        OfflineError: MkDocs failed, or the build gave no offline search index.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    out = work / OFFLINE_FOLDER
    with _environment(OFFLINE_ENV, "true"):
        config = load_config(str(root / "mkdocs.yml"), site_dir=str(out), strict=True)
    extra = config["extra"]
    extra["polyfills"] = [SHIM]
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    except (Exception, SystemExit) as exc:  # MkDocs aborts with SystemExit or its own exceptions
        raise OfflineError(f"the offline copy did not build ({exc})") from None
    finally:
        config.plugins.on_shutdown()
    if not (out / "search" / "search_index.js").is_file():
        raise OfflineError(
            "the offline copy has no search/search_index.js: is the offline plugin in mkdocs.yml?"
        )
    point_links_at_files(out)
    dest = site_dir / OFFLINE_ZIP
    zip_folder(out, dest, OFFLINE_FOLDER)
    return dest
