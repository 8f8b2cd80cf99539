"""Page citations: how to cite a page of the guide itself, in APA 7, BibTeX and RIS.

Each page is described once, as a BibLaTeX entry, and that entry is formatted by the same APA style
(`coguide.cite.apa`, through `coguide.cite.Bibliography`) and the same RIS writer (`coguide.cite.ris`) as every
work in the bibliography, so the guide cites itself the way it cites everything else:

- an essay is a post in the guide, by its author (the editors, a group, unless it names someone):
  "The guide's editors. (2026, November 23). Title. *Client, patient, customer, citizen?* URL";
- any other page (a label, concept or case, the debates, the timeline, the bibliography) is an entry in
  a reference work: "Client. (2026). In *Client, patient, customer, citizen?* The guide's editors. URL".
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup
from pybtex.bibtex.utils import split_name_list
from pybtex.database import Entry, Person
from pybtex.textutils import normalize_whitespace

from coguide.cite import Bibliography
from coguide.cite.ris import ris_lines
from coguide.model import Essay, Site

#: The author id of the editors in the blog's authors file (``docs/blog/.authors.yml``).
EDITORS_ID = "editors"

_LATEX_SPECIALS = re.compile(r"([\\{}%&$#_^~])")
# The APA formatter decodes these back to the characters; braces have no form it decodes, so they become
# parentheses, and a caret becomes the modifier letter (U+02C6) it decodes ``\^{}`` to.
_LATEX_REPLACEMENTS = {
    "\\": r"\textbackslash{}",
    "^": r"\^{}",
    "~": r"\textasciitilde{}",
    "{": "(",
    "}": ")",
}


@dataclass(frozen=True, kw_only=True)
class PageCitation:
    """One page's citation in every form the guide offers.

    Attributes:
        key: The BibTeX key, e.g. ``coguide-terms-client``.
        url: The page's address: absolute when the site's address is known, else site-relative ("/terms/client/").
        absolute: True when `url` is absolute.
        authors: The names in the author position (empty for an entry in the reference work).
        date: The ISO date the citation gives (publication date of an essay, last update of other pages), or "".
        container: The work the page is part of (the guide's title).
        publisher: Who publishes it (the editors).
        apa_text: The APA 7 reference as plain text.
        apa_html: The APA 7 reference as HTML (italics, the address as a link); everything escaped.
        bibtex: The BibLaTeX entry.
        ris: The RIS record (lines joined with newlines).
    """

    key: str
    url: str
    absolute: bool
    authors: tuple[str, ...]
    date: str
    container: str
    publisher: str
    apa_text: str
    apa_html: str
    bibtex: str
    ris: str


def latex_escape(value: str) -> str:
    r"""Escape a plain value for a braced BibTeX field (``&`` -> ``\&``; backslashes and tildes too).

    Braces, which the formatter cannot give back, become parentheses.

    >>> latex_escape("R&D 100% {x}")
    'R\\&D 100\\% (x)'
    """
    return _LATEX_SPECIALS.sub(lambda m: _LATEX_REPLACEMENTS.get(m.group(1), "\\" + m.group(1)), value)


def page_key(url: str) -> str:
    """Return a page's BibTeX key from its site-relative URL (``terms/client/`` -> ``coguide-terms-client``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-")
    return f"coguide-{slug}" if slug else "coguide-home"


def page_address(base: str, url: str) -> str:
    """Return a page's address: `base` + `url` when the site's address is known, else a site-relative path."""
    return base.rstrip("/") + "/" + url.lstrip("/") if base else "/" + url.lstrip("/")


def page_fields(
    *,
    title: str,
    url: str,
    container: str,
    publisher: str,
    date: str,
    authors: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """Return the BibLaTeX fields of a page of the guide, in order, as (name, value in BibTeX's syntax).

    With `authors` the page is an essay (a post in the guide, dated by its publication date); without, it
    is an entry in a reference work (dated by its year, with the title in the author position). Authors are
    group names and are braced as such. Every value is escaped here.

    Args:
        title: The page's title (plain text).
        url: The page's address.
        container: The guide's title.
        publisher: Who publishes the guide, or "" when not known.
        date: ISO date (``2026-11-23``), or "" for an undated page.
        authors: Group authors of an essay.
    """
    fields: list[tuple[str, str]] = []
    if authors:
        fields.append(("author", " and ".join(f"{{{latex_escape(a)}}}" for a in authors)))
    fields.append(("title", "{" + latex_escape(title) + "}"))
    if authors:
        fields.append(("journaltitle", "{" + latex_escape(container) + "}"))
        fields.append(("keywords", "blog"))
        fields.append(("date", date) if date else ("year", "n.d."))
    else:
        fields.append(("booktitle", "{" + latex_escape(container) + "}"))
        fields.append(("options", "useauthor=false"))
        fields.append(("year", date[:4] if date else "n.d."))
    if publisher:
        fields.append(("publisher", latex_escape(publisher)))
    fields.append(("url", url.replace("{", "%7B").replace("}", "%7D")))
    return fields


def page_entry_type(authors: Sequence[str]) -> str:
    """Return the BibLaTeX type of a page: ``online`` for an essay (it has authors), else ``inreference``."""
    return "online" if authors else "inreference"


def page_bibtex(key: str, fields: Sequence[tuple[str, str]], authors: Sequence[str]) -> str:
    """Return the BibLaTeX entry for a page of the guide from its fields (`page_fields`), as published."""
    lines = [f"@{page_entry_type(authors)}{{{key},", *(f"  {name} = {{{value}}}," for name, value in fields)]
    return "\n".join([*lines, "}"])


def page_entry(key: str, fields: Sequence[tuple[str, str]], authors: Sequence[str]) -> Entry:
    """Return the pybtex entry for a page from its fields, as pybtex's parser would build it from `page_bibtex`."""
    entry = Entry(page_entry_type(authors))
    entry.key = key
    for name, raw in fields:
        value = normalize_whitespace(raw)
        if name in Person.valid_roles:
            for name_string in split_name_list(value):
                entry.add_person(Person(name_string), name)
        else:
            entry.fields[name] = value
    return entry


def cite_page(
    *,
    title: str,
    url: str,
    base: str,
    container: str,
    publisher: str,
    date: str,
    authors: tuple[str, ...] = (),
) -> PageCitation:
    """Describe a page as a BibLaTeX entry and format it with the guide's APA style and RIS writer.

    The entry is built as a pybtex `Entry` (nothing is parsed); its BibTeX is written from the same fields.

    Args:
        title: The page's title.
        url: The page's URL relative to the site root (``terms/client/``).
        base: The site's absolute address, or "" when it is not known (addresses are then site-relative).
        container: The guide's title.
        publisher: Who publishes the guide (the editors), or "" when not known.
        date: ISO date: an essay's publication date, another page's last update; "" when unknown.
        authors: An essay's authors (group names); empty for any other page.

    Raises:
        ValueError: `date` is not an ISO date (a bug upstream).
    """
    if date:
        dt.date.fromisoformat(date)  # a malformed date is a bug upstream, not something to print
    key = page_key(url)
    address = page_address(base, url)
    values = {"title": title, "url": address, "container": container, "publisher": publisher, "date": date}
    fields = page_fields(**values, authors=authors)
    source = page_bibtex(key, fields, authors)
    entry = page_entry(key, fields, authors)
    bib = Bibliography.from_entries({key: (entry, source)})
    ris = "\n".join(ris_lines(key, entry, bib.facts(key)))
    return PageCitation(
        key=key,
        url=address,
        absolute=bool(base),
        authors=tuple(authors),
        date=date,
        container=container,
        publisher=publisher,
        apa_text=bib.format_reference(key, "text"),
        apa_html=bib.format_reference(key, "html"),
        bibtex=source,
        ris=ris,
    )


def h(value: object) -> Markup:
    """Escape a plain value for an HTML context (element text or a quoted attribute)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def editors_name(site: Site) -> str:
    """Return the editors' name from the blog's authors file, or "" when it names none."""
    return site.info.authors.get(EDITORS_ID, "")


def essay_authors(site: Site, essay: Essay) -> tuple[str, ...]:
    """Return an essay's author names (its ids looked up in the authors file), else the editors', else the site's."""
    names = tuple(site.info.authors.get(a, a) for a in essay.authors)
    return names or (editors_name(site) or site.info.name,)


def essay_updated(site: Site, essay: Essay) -> str:
    """Return the ISO date an essay last changed, when that is after its publication date, else ""."""
    updated = site.info.updated.get(essay.path, "")
    return updated if updated > essay.date.isoformat() else ""


def page_citation(
    site: Site, *, title: str, url: str, source: str, essay: Essay | None = None
) -> PageCitation:
    """Return how to cite one page.

    An essay is cited by its authors and publication date; any other page as an entry in the guide
    (a reference work) dated by its source's last commit.

    Args:
        site: The site model (name, address, authors and source dates).
        title: The page title.
        url: The page URL relative to the site root.
        source: The source file whose last commit dates a page that is not an essay.
        essay: The essay, when the page is one.
    """
    if essay is not None:
        date, authors = essay.date.isoformat(), essay_authors(site, essay)
    else:
        date, authors = site.info.updated.get(source, ""), ()
    return site.texts.memo(
        ("page_citation", title, url, date, authors), lambda: _cite_page(site, title, url, date, authors)
    )


def _cite_page(site: Site, title: str, url: str, date: str, authors: tuple[str, ...]) -> PageCitation:
    return cite_page(
        title=title,
        url=url,
        base=site.info.url,
        container=site.info.name,
        publisher=editors_name(site),
        date=date,
        authors=authors,
    )


def _long_date(iso: str) -> str:
    date = dt.date.fromisoformat(iso)
    return f"{date.day} {date:%B %Y}"


def cite_this_page(
    site: Site, *, title: str, url: str, source: str, essay: Essay | None = None, anchor: str = "cite"
) -> Markup:
    """Return the "Cite this page" box: APA 7, BibTeX and RIS for one page (see `page_citation`).

    Args:
        site: The site model.
        title: The page title.
        url: The page URL relative to the site root.
        source: The source file whose last commit dates the page (and, for an essay, its last update).
        essay: The essay, when the page is one.
        anchor: A prefix for the box's element ids.
    """
    citation = page_citation(site, title=title, url=url, source=source, essay=essay)
    # APA is shown once, formatted, and copied as the text shown (its plain form). Each form's Copy button is
    # made by the script that makes it work (coguide.js), at the end of the line naming the form.
    parts = [
        # Out of the search index: the same few lines on every page, and BibTeX and RIS are no prose to find.
        f'<details class="cite-this-page" id="{h(anchor)}" data-search-exclude markdown="0">',
        "<summary>Cite this page</summary>",
        "<p>APA 7</p>",
        f'<p class="cite-apa" id="{h(anchor)}-apa">{citation.apa_html}</p>',
    ]
    forms = (
        ("BibTeX", "bibtex", citation.bibtex),
        ("RIS", "ris", citation.ris),
    )
    for label, ident, text in forms:
        box = f"{anchor}-{ident}"
        rows = text.count("\n") + 1
        parts.append(
            f'<p><label for="{h(box)}">{label}</label></p>'
            f'<textarea id="{h(box)}" readonly rows="{rows}">{h(text)}</textarea>'
        )
    updated = essay_updated(site, essay) if essay is not None else site.info.updated.get(source, "")
    if updated:
        parts.append(
            f'<p class="cite-updated">Last updated: <time datetime="{h(updated)}">{h(_long_date(updated))}</time>.</p>'
        )
    if not citation.absolute:
        parts.append(
            '<p class="cite-warning">This copy of the guide was built without its web address, '
            "so the address above is a path on the site.</p>"
        )
    parts.append("</details>")
    return Markup("\n".join(parts))


def print_header(site: Site, *, title: str, url: str, source: str, essay: Essay | None = None) -> Markup:
    """Return the lines under a page's title: byline and dates (essays), and, for print, the address and "Cite as".

    The byline shows on screen too, so an essay's author and dates sit directly under its title on a phone;
    the address and the "Cite as" line are for the printed handout only.
    """
    citation = page_citation(site, title=title, url=url, source=source, essay=essay)
    lines = []
    if essay is not None:
        published = essay.date.isoformat()
        byline = (
            f'By {h(", ".join(citation.authors))} · Published <time datetime="{h(published)}">'
            f"{h(_long_date(published))}</time>"
        )
        updated = essay_updated(site, essay)
        if updated:
            byline += f' · Last updated <time datetime="{h(updated)}">{h(_long_date(updated))}</time>'
        lines.append(f'<p class="page-byline">{byline}</p>')
    # For the printed handout only, and so out of the search index too.
    lines.append(f'<p class="print-only page-address" data-search-exclude>{h(citation.url)}</p>')
    lines.append(
        f'<p class="print-only page-cite-as" data-search-exclude><strong>Cite as:</strong> {citation.apa_html}</p>'
    )
    return Markup('<div class="page-header" markdown="0">\n' + "\n".join(lines) + "\n</div>")
