"""Site inventory: every HTML page of a built site and every internal link on it, to compare two engines' builds.

Engines differ in bytes (asset names, whitespace, the generator tag), so their builds are compared by what a
reader meets: the pages there are and where their links go. CI builds the site with every engine and runs

``python -m coguide.tools.inventory SITE_A SITE_B``
    Print the pages and the internal links found in one build and not the other; exit 1 if there are any.

Internal links are ``<a href>`` targets with no scheme and no host, resolved against the page they are on
(``../terms/client/#note`` on ``cases/x/index.html`` is ``terms/client/#note``); a link to a folder and a link
to its ``index.html`` are the same target. The search box, the theme's own assets and the query strings that
engines add to them are not links a reader follows, so ``<link>`` and ``<script>`` are left out.
"""

from __future__ import annotations

import argparse
import posixpath
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    """Collect the ``href`` of every ``<a>`` element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.hrefs.append(href)


def _target(page: str, href: str) -> str | None:
    """Return the site path `href` on `page` points at (with its fragment), or None for an external link."""
    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if path:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
        resolved = "" if resolved == "." else resolved
        if path.endswith("/") and resolved:
            resolved += "/"
    else:
        resolved = page  # a fragment on the same page
    if resolved == "index.html" or resolved.endswith("/index.html"):
        resolved = resolved[: -len("index.html")]
    return resolved + (f"#{parts.fragment}" if parts.fragment else "")


@dataclass(frozen=True)
class Inventory:
    """What a built site offers a reader.

    Attributes:
        pages: Every HTML page, relative to the site folder (``terms/client/index.html``).
        links: Every (page, target) pair of an internal link, the target relative to the site folder.
    """

    pages: frozenset[str]
    links: frozenset[tuple[str, str]]

    @property
    def targets(self) -> frozenset[str]:
        """Return every internal link target, whichever page it is on."""
        return frozenset(target for _page, target in self.links)


def site_inventory(site: Path) -> Inventory:
    """List every HTML page of the built site in `site` and every internal link on it.

    Raises:
        FileNotFoundError: `site` is not a folder.
    """
    if not site.is_dir():
        raise FileNotFoundError(f"{site} is not a folder: build the site first")
    pages: set[str] = set()
    links: set[tuple[str, str]] = set()
    for path in sorted(site.rglob("*.html")):
        page = path.relative_to(site).as_posix()
        pages.add(page)
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        for href in parser.hrefs:
            target = _target(page, href)
            if target is not None:
                links.add((page, target))
    return Inventory(pages=frozenset(pages), links=frozenset(links))


def compare(a: Inventory, b: Inventory) -> list[str]:
    """Return one line for every page and every internal link found in only one of the two inventories."""
    lines = [f"page only in the first build: {p}" for p in sorted(a.pages - b.pages)]
    lines += [f"page only in the second build: {p}" for p in sorted(b.pages - a.pages)]
    lines += [f"link only in the first build: {p} -> {t}" for p, t in sorted(a.links - b.links)]
    lines += [f"link only in the second build: {p} -> {t}" for p, t in sorted(b.links - a.links)]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Compare two built sites; print the differences and exit 1 if there are any."""
    parser = argparse.ArgumentParser(
        prog="python -m coguide.tools.inventory",
        description="Compare the pages and internal links of two built sites.",
    )
    parser.add_argument("first", type=Path, help="a built site folder")
    parser.add_argument("second", type=Path, help="another build of the same site")
    args = parser.parse_args(argv)
    try:
        a, b = site_inventory(args.first), site_inventory(args.second)
    except FileNotFoundError as exc:
        print(f"inventory: {exc}", file=sys.stderr)
        return 2
    differences = compare(a, b)
    for line in differences:
        print(line)
    print(
        f"inventory: {args.first}: {len(a.pages)} pages, {len(a.links)} internal links; "
        f"{args.second}: {len(b.pages)} pages, {len(b.links)} internal links; "
        f"{len(differences)} difference(s)",
        file=sys.stderr,
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
