"""Pages: the rest of the complete docs tree, so that any engine can build the site without running our stages.

`render.render_site` writes the pages made from the data; this module adds what the engine used to get from
hooks: every hand-written page with its citations, reference list and glossary links already rendered and
its JSON-LD in its front matter, every other file under ``docs/`` (images, styles, scripts), and a redirect
page for each former id. Everything is read from the model.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

import yaml

from coguide.model import SECTION, Site, WrittenPage, essay_url
from coguide.pages.export import page_jsonld
from coguide.pages.render import (
    GENERATED_NOTICE,
    Page,
    citation_meta,
    make_glossary,
    render_document,
    url_for,
)


def page_url(src_uri: str) -> str:
    """Return the URL an engine gives a page with directory URLs (``about.md`` -> ``about/``)."""
    stem = src_uri.removesuffix(".md")
    if stem == "index":
        return ""
    if stem.endswith("/index"):
        return stem.removesuffix("index")
    return stem + "/"


def front_matter(meta: dict) -> str:
    """Return `meta` as a YAML front-matter block (``---`` lines included), or "" when it is empty."""
    if not meta:
        return ""
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1_000_000) + "---\n\n"


def page_meta(site: Site, src_uri: str) -> dict:
    """Return what the theme reads from a page's front matter beyond its own keys.

    ``jsonld`` (schema.org), ``citation_meta`` (the ``citation_*`` tags reference managers read) and, for a
    record, ``edit_line`` (the line of its data file, for "Suggest a change"); the theme escapes every value.
    """
    meta: dict = {}
    data = page_jsonld(site, src_uri, authors=site.authors)
    if data is not None:
        # A JSON round trip leaves plain mappings and lists, which YAML writes and the theme reads as they are.
        meta["jsonld"] = json.loads(json.dumps(data))
    tags = citation_meta(site, src_uri)
    if tags:
        meta["citation_meta"] = [list(tag) for tag in tags]
    for resource in SECTION:
        record = next((r for r in getattr(site, resource).values() if r.src_uri == src_uri), None)
        if record is not None and record.line:
            meta["edit_line"] = record.line
    return meta


def render_written_page(site: Site, doc: WrittenPage, glossary=None) -> Page:
    """Render one hand-written page for the docs tree: citations linked, references listed, JSON-LD added."""
    essay = next((e for e in site.essays if e.src_uri == doc.src_uri), None) if doc.is_post else None
    url = essay_url(essay) if essay is not None else page_url(doc.src_uri)
    # An essay's links are written from the site root (its excerpt is shown on the index and category pages
    # too); the engine adapter makes them relative on each page that shows them.
    body = render_document(
        doc.body,
        url,
        site,
        src_uri=doc.src_uri,
        glossary=glossary if doc.is_post else None,
        root_links=doc.is_post,
    )
    meta = {**doc.meta, **page_meta(site, doc.src_uri)}
    # The notice goes last: the blog plugin takes a post's title from its first line, and a comment there
    # would make it add a second title (and shift every heading's anchor).
    notice = f"\n\n<!-- {GENERATED_NOTICE}: made from {html.escape(doc.path)} by coguide -->\n"
    return Page(src_uri=doc.src_uri, content=front_matter(meta) + body.rstrip() + notice, source=doc.path)


def render_written_pages(site: Site) -> list[Page]:
    """Render every hand-written page under ``docs/`` for the docs tree."""
    glossary = make_glossary(site)
    return [render_written_page(site, doc, glossary) for doc in site.documents]


def add_page_meta(site: Site, pages: Iterable[Page]) -> list[Page]:
    """Put each generated page's `page_meta` into its front matter (pages without any are unchanged)."""
    out = []
    for page in pages:
        meta = page_meta(site, page.src_uri) if page.src_uri.endswith(".md") else {}
        if not meta or not isinstance(page.content, str) or not page.content.startswith("---\n"):
            out.append(page)
            continue
        # One JSON value per line: JSON is valid YAML, and it needs no escaping of its own.
        lines = "".join(
            f"{key}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}\n" for key, value in meta.items()
        )
        out.append(Page(src_uri=page.src_uri, content="---\n" + lines + page.content[4:], source=page.source))
    return out


_REDIRECT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Moved: {title}</title>
<meta name="robots" content="noindex">
<link rel="canonical" href="{href}">
<meta http-equiv="refresh" content="0; url={href}">
</head>
<body>
<!-- {notice}: a former address of {source} -->
<p>This page has moved to <a href="{href}">{title}</a>.</p>
</body>
</html>
"""


def render_redirects(site: Site) -> list[Page]:
    """Return a redirect page at each former id's address (``terms/old-id/``) pointing at the record's page.

    Ids and aliases are slugs (the check refuses anything else), so every path stays inside its section.
    """
    pages = []
    for resource in SECTION:
        for record in getattr(site, resource).values():
            for alias in record.aliases:
                from_url = f"{SECTION[resource]}/{alias}/"
                href = html.escape(url_for(from_url, record.url), quote=True)
                content = _REDIRECT.format(
                    title=html.escape(record.title),
                    href=href,
                    notice=GENERATED_NOTICE,
                    source=html.escape(f"{record.source_path} (id: {record.id})"),
                )
                pages.append(
                    Page(src_uri=f"{from_url}index.html", content=content, source=record.source_path)
                )
    return pages
