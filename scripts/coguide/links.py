"""Links: site-relative addresses between pages, and links written from the site root.

The generator writes every link between pages relative to the page it is on, so the site works under any
base path and from disk. HTML shown on more than one page (an essay's excerpt on the index and category pages)
carries root links instead, which the engine adapter makes relative on each page that shows them.
"""

from __future__ import annotations

import html
import posixpath
import re


def relpath(path: str, start: str) -> str:
    """Return ``posixpath.relpath(path, start)`` for two paths relative to the site root."""
    # posixpath.relpath makes both paths absolute (two getcwd() calls per link), which was a fifth of the
    # render stage; comparing the components of site-relative paths gives the same answer.
    if not path or ".." in path or path.startswith("/") or ".." in start or start.startswith("/"):
        return posixpath.relpath(path, start)
    parts = [p for p in path.split("/") if p and p != "."]
    base = [p for p in start.split("/") if p and p != "."]
    common = 0
    for a, b in zip(parts, base, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(base) - common) + parts[common:]) or "."


def url_for(from_url: str, to_url: str) -> str:
    """Return a relative link from one page URL to another (both relative to the site root).

    >>> url_for("terms/client/", "bibliography/#needham2008")
    '../../bibliography/#needham2008'
    """
    target, _, anchor = to_url.partition("#")
    base = from_url.rstrip("/") or "."
    rel = relpath(target or from_url, base) if target else ""
    if target.endswith("/") and rel != "." and not rel.endswith("/"):
        rel += "/"
    if rel == ".":
        rel = "./"
    return rel + (f"#{anchor}" if anchor else "")


#: Marks a link by its path from the site root, in HTML that is shown on more than one page (an essay's excerpt
#: is shown on the essays index and the category pages too); `resolve_root_links` makes it relative per page.
ROOT_LINK = "coguide-root:"
_ROOT_LINK_ATTR = re.compile(r'\b(href|src)="' + re.escape(ROOT_LINK) + r'([^"]*)"')


def root_link(target: str) -> str:
    """Return a link to `target` (a path from the site root) to be made relative by `resolve_root_links`."""
    return ROOT_LINK + target


def resolve_root_links(content: str, page_url: str) -> str:
    """Make every `root_link` in a page's HTML relative to the page, so it resolves under any base path.

    A page whose address is a file (``blog/index.html``, as in the offline copy) is linked from its folder.
    """
    if ROOT_LINK not in content:
        return content
    if page_url.endswith(".html"):
        page_url = posixpath.dirname(page_url) + "/" if "/" in page_url else ""
    return _ROOT_LINK_ATTR.sub(
        lambda m: f'{m.group(1)}="{html.escape(url_for(page_url, html.unescape(m.group(2))), quote=True)}"',
        content,
    )
