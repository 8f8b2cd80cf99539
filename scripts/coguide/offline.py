"""Offline copy: a second engine build, for reading from a folder (``file://``), zipped into the published site.

The engine builds the copy (`Engine.build_offline`; with MkDocs, Material's offline plugin turns directory URLs
off and inlines the search index). Browsers refuse Web Workers to ``file://`` pages, so the search worker runs
through the iframe-worker shim, served from ``docs/assets/vendor/`` rather than from another host.
Links written as HTML by the generator (citations, figures, tables) point at directory URLs such as
``../terms/client/``; in the offline copy they are pointed at the page's file (``../terms/client.html``).
This module is engine-neutral: it rewrites those links and zips the copy.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from coguide.outputs import MARKER

if TYPE_CHECKING:
    from coguide.engines.base import Engine

#: Where the zip is published, relative to the site root.
OFFLINE_ZIP = "downloads/offline-copy.zip"
#: The folder the zip unpacks to.
OFFLINE_FOLDER = "client-patient-customer-citizen"
#: The Worker stand-in, relative to the site root (its path names iframe-worker, as Material's plugin expects).
SHIM = "assets/vendor/iframe-worker/shim.js"

_LINK = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


class OfflineError(Exception):
    """The offline copy could not be built."""


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

    A relative link that already leads to a file is kept. Otherwise it is read as written for directory URLs,
    from the directory the page stands for (`online_dir`), and failing that from the page's own folder, and is
    pointed at the file serving that address.

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
    for base in (online_dir(page), here):
        target = posixpath.normpath(posixpath.join(base, path))
        if target.startswith(".."):
            continue
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


def build_offline_copy(engine: Engine, root: Path, docs_dir: Path, site_dir: Path, work: Path) -> Path:
    """Build the offline copy of the docs tree and zip it into the (scratch) site folder `site_dir`.

    Args:
        engine: The engine building the site; it builds the copy too (`Engine.build_offline`).
        root: The project folder.
        docs_dir: The complete docs tree the generator wrote.
        site_dir: The site being built; the zip goes to `OFFLINE_ZIP` inside it.
        work: An empty scratch folder for the offline build.

    Returns:
        The zip's path.

    Raises:
        OfflineError: The engine failed, or the copy has no offline search index.
    """
    out = work / OFFLINE_FOLDER
    result = engine.build_offline(root, docs_dir, out, shim=SHIM)
    if not result.ok:
        details = "".join(f"\n  {message}" for message in result.warnings)
        raise OfflineError(f"the offline copy did not build ({result.error}){details}")
    if not (out / "search" / "search_index.js").is_file():
        raise OfflineError(
            "the offline copy has no search/search_index.js: is the offline plugin in mkdocs.yml?"
        )
    point_links_at_files(out)
    dest = site_dir / OFFLINE_ZIP
    zip_folder(out, dest, OFFLINE_FOLDER)
    return dest
