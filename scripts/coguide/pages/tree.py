"""Pages: the rest of the complete docs tree, so that any engine can build the site without running our stages.

`render.render_site` writes the pages made from the data; this module adds what the engine used to get from
hooks: every hand-written page with its citations, reference list and glossary links already rendered and
its JSON-LD in its front matter, every other file under ``docs/`` (images, styles, scripts), and a redirect
page for each former id. Everything is read from the model.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping

import yaml

from coguide.model import SECTION, Essay, Record, Site, WrittenPage, essay_url
from coguide.pages.export import essay_jsonld, record_jsonld
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


def page_owners(site: Site) -> dict[str, Record | Essay]:
    """Return each record and essay by the source path of its page (``terms/client.md``), made once per site."""
    return site.texts.memo(("page_owners",), lambda: _page_owners(site))


def _page_owners(site: Site) -> dict[str, Record | Essay]:
    owners: dict[str, Record | Essay] = {}
    for resource in SECTION:
        owners.update((record.src_uri, record) for record in getattr(site, resource).values())
    owners.update((essay.src_uri, essay) for essay in site.essays)
    return owners


def page_meta(site: Site, src_uri: str, owners: Mapping[str, Record | Essay] | None = None) -> dict:
    """Return what the theme reads from a page's front matter beyond its own keys.

    ``jsonld`` (schema.org), ``citation_meta`` (the ``citation_*`` tags reference managers read) and, for a
    record, ``edit_line`` (the line of its data file, for "Suggest a change"); the theme escapes every value.
    `owners` is `page_owners` of the site: pass it when asking for many pages, so no page searches them all.
    """
    if owners is None:
        owners = page_owners(site)
    owner = owners.get(src_uri)
    meta: dict = {}
    if isinstance(owner, Essay):
        data = essay_jsonld(site, owner, authors=site.authors)
    elif owner is not None:
        data = record_jsonld(site, owner, owner.url)
    else:
        data = None
    if data is not None:
        # A JSON round trip leaves plain mappings and lists, which YAML writes and the theme reads as they are.
        meta["jsonld"] = json.loads(json.dumps(data))
    tags = citation_meta(site, src_uri, owners)
    if tags:
        meta["citation_meta"] = [list(tag) for tag in tags]
    if owner is not None and not isinstance(owner, Essay) and owner.line:
        meta["edit_line"] = owner.line
    return meta


def render_written_page(
    site: Site, doc: WrittenPage, glossary=None, owners: Mapping[str, Record | Essay] | None = None
) -> Page:
    """Render one hand-written page for the docs tree: citations linked, references listed, JSON-LD added.

    `owners` is as for `page_meta`.
    """
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
    meta = {**doc.meta, **page_meta(site, doc.src_uri, owners)}
    # The notice goes last: the blog plugin takes a post's title from its first line, and a comment there
    # would make it add a second title (and shift every heading's anchor).
    notice = f"\n\n<!-- {GENERATED_NOTICE}: made from {html.escape(doc.path)} by coguide -->\n"
    return Page(src_uri=doc.src_uri, content=front_matter(meta) + body.rstrip() + notice, source=doc.path)


def render_written_pages(site: Site) -> list[Page]:
    """Render every hand-written page under ``docs/`` for the docs tree."""
    glossary = make_glossary(site)
    owners = page_owners(site)
    return [render_written_page(site, doc, glossary, owners) for doc in site.documents]


def add_page_meta(site: Site, pages: Iterable[Page]) -> list[Page]:
    """Put each generated page's `page_meta` into its front matter (pages without any are unchanged)."""
    out = []
    owners = page_owners(site)
    for page in pages:
        meta = page_meta(site, page.src_uri, owners) if page.src_uri.endswith(".md") else {}
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
