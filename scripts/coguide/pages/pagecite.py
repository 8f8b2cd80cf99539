"""Page citations: how to cite a page of the guide itself, in APA 7, BibTeX and RIS.

Each page is described once, as a BibLaTeX entry, and that entry is formatted by the same APA style
(`coguide.cite.apa`, through `coguide.cite.Bibliography`) and the same RIS writer (`coguide.pages.export`) as every
work in the bibliography, so the guide cites itself the way it cites everything else:

- an essay is a post in the guide, by its author (the editors, a group, unless it names someone):
  "The guide's editors. (2026, November 23). Title. *Client, patient, customer, citizen?* URL";
- any other page (a label, concept or case, the debates, the timeline, the bibliography) is an entry in
  a reference work: "Client. (2026). In *Client, patient, customer, citizen?* The guide's editors. URL".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from coguide.cite import Bibliography

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


def _field(name: str, value: str) -> str:
    return f"  {name} = {{{value}}},"


def page_bibtex(
    *,
    key: str,
    title: str,
    url: str,
    container: str,
    publisher: str,
    date: str,
    authors: Sequence[str] = (),
) -> str:
    """Return the BibLaTeX entry for a page of the guide.

    With `authors` the page is an essay (``@online``, a post in the guide, dated by its publication
    date); without, it is an entry in a reference work (``@inreference``, dated by its year, with the
    title in the author position). Authors are group names and are braced as such.

    Args:
        key: The entry's key.
        title: The page's title (plain text; escaped here).
        url: The page's address.
        container: The guide's title.
        publisher: Who publishes the guide, or "" when not known.
        date: ISO date (``2026-11-23``), or "" for an undated page.
        authors: Group authors of an essay.
    """
    lines = [f"@online{{{key}," if authors else f"@inreference{{{key},"]
    if authors:
        lines.append(_field("author", " and ".join(f"{{{latex_escape(a)}}}" for a in authors)))
    lines.append(_field("title", "{" + latex_escape(title) + "}"))
    if authors:
        lines.append(_field("journaltitle", "{" + latex_escape(container) + "}"))
        lines.append(_field("keywords", "blog"))
        lines.append(_field("date", date) if date else _field("year", "n.d."))
    else:
        lines.append(_field("booktitle", "{" + latex_escape(container) + "}"))
        lines.append(_field("options", "useauthor=false"))
        lines.append(_field("year", date[:4] if date else "n.d."))
    if publisher:
        lines.append(_field("publisher", latex_escape(publisher)))
    lines.append(_field("url", url.replace("{", "%7B").replace("}", "%7D")))
    lines.append("}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=1024)
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

    Args:
        title: The page's title.
        url: The page's URL relative to the site root (``terms/client/``).
        base: The site's absolute address, or "" when it is not known (addresses are then site-relative).
        container: The guide's title.
        publisher: Who publishes the guide (the editors), or "" when not known.
        date: ISO date: an essay's publication date, another page's last update; "" when unknown.
        authors: An essay's authors (group names); empty for any other page.

    Raises:
        ValueError: The entry does not parse (a bug: every value is escaped).
    """
    from coguide.pages.export import format_ris_record  # export imports render, which imports this module

    if date:
        dt.date.fromisoformat(date)  # a malformed date is a bug upstream, not something to print
    key = page_key(url)
    address = page_address(base, url)
    source = page_bibtex(
        key=key,
        title=title,
        url=address,
        container=container,
        publisher=publisher,
        date=date,
        authors=authors,
    )
    bib, problems = Bibliography.parse(source)
    if problems or key not in bib:
        details = "; ".join(p.message for p in problems) or "no entry"
        raise ValueError(f"the citation of {url!r} does not parse: {details}")
    ris = "\n".join(f"{tag}  - {value}" for tag, value in format_ris_record(key, bib.entry(key)))
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
