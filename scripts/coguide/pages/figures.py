"""Render (figures): figures drawn from the data at build time as accessible SVG, and short texts for tables.

Every figure is plain SVG (no script, no event handler, no link out of the file) with a ``<title>`` and a
``<desc>``; the page that shows it also gives it as text (a list or a table), cites its source, and links
each record it names. Nothing here places a record where the data does not: the ladder of participation
shows only the placements a record's own text makes, citing Arnstein.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from coguide.cite import Citation
from coguide.model import Case, Concept, Site, Term
from coguide.pages.pagecite import cite_this_page

#: Arnstein's (1969) eight rungs, bottom to top, and the band each belongs to.
RUNGS: tuple[tuple[str, str], ...] = (
    ("manipulation", "non-participation"),
    ("therapy", "non-participation"),
    ("informing", "tokenism"),
    ("consultation", "tokenism"),
    ("placation", "tokenism"),
    ("partnership", "citizen power"),
    ("delegated power", "citizen power"),
    ("citizen control", "citizen power"),
)
BANDS: tuple[str, ...] = ("non-participation", "tokenism", "citizen power")
#: The work the ladder comes from; a placement must cite it in the same sentence.
LADDER_KEY = "arnstein1969"
#: The concepts drawn as the faces (dimensions) of power, in order.
FACES: tuple[str, ...] = (
    "one-dimensional-power",
    "two-dimensional-power",
    "three-dimensional-power",
    "power-as-discourse",
)
#: The eras of the label map: (first year, last year, heading).
ERAS: tuple[tuple[int, int, str], ...] = (
    (0, 1979, "before 1980"),
    (1980, 1989, "1980s"),
    (1990, 1999, "1990s"),
    (2000, 2009, "2000s"),
    (2010, 9999, "2010 on"),
)
#: The pair of labels the comparison page shows before (or without) JavaScript.
DEFAULT_PAIR: tuple[str, str] = ("client", "service-user")

_SENTENCE = re.compile(r"[^.!?]*(?:[.!?](?=\s|$)|$)")
_CITATION_KEY = re.compile(r"@([\w:.#$%&+?<>~/-]*\w)")


def shorten(text: str, limit: int = 110) -> str:
    """Return a text's first sentence, cut at a word boundary with an ellipsis when longer than `limit`.

    >>> shorten("Mainly the professional; the client co-operates. More.", 40)
    'Mainly the professional.'
    """
    text = " ".join(text.split())
    match = re.search(r"[.?!](?=\s+[A-Z(\"“'])", text)
    sentence = text[: match.end()] if match else text
    if len(sentence) <= limit:
        return sentence
    for mark in (";", ":", " – ", " — "):
        head = sentence.split(mark)[0].rstrip(" ,")
        if 15 <= len(head) <= limit:
            return head.rstrip(".") + "."
    cut = sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


_BRACKETS = re.compile(r"\[[^\[\]]*\]")


def _outside_brackets(text: str, mark: str) -> int:
    """Return the index of the first `mark` in `text` outside square brackets (citations), or -1."""
    masked = _BRACKETS.sub(lambda m: "\0" * len(m.group(0)), text)
    return masked.find(mark)


def short_markdown(text: str, limit: int, plain: Callable[[str], str]) -> str:
    """Return a Markdown text's first sentence, shortened like `shorten` but measured as read, citations kept whole.

    The result is still Markdown, so its citations can be rendered as links; a cut never splits a citation
    (a citation it would split is left out).

    Args:
        text: The Markdown text.
        limit: The most characters the shortened text may have, as read (citations as author-date text).
        plain: Turns Markdown into the text a reader sees.
    """
    text = " ".join(text.split())
    match = re.search(r"[.?!](?=\s+[A-Z(\"“'])", _BRACKETS.sub(lambda m: "\0" * len(m.group(0)), text))
    sentence = text[: match.end()] if match else text
    if len(plain(sentence)) <= limit:
        return sentence
    for mark in (";", ":", " – ", " — "):
        cut = _outside_brackets(sentence, mark)
        head = sentence[:cut].rstrip(" ,") if cut > 0 else ""
        if head and 15 <= len(plain(head)) <= limit:
            return head.rstrip(".") + "."
    words = sentence.split(" ")
    while words and len(plain(" ".join(words))) > limit - 1:
        words.pop()
    short = " ".join(words)
    if short.count("[") > short.count("]"):
        short = short[: short.rfind("[")]
    return short.rstrip(" ,;:([") + "…"


def cited_works(citations: Iterable[Citation]) -> str:
    """Return one Pandoc citation of every work cited, in order, with its locator (or "").

    Args:
        citations: A text's parsed citations (``site.texts.cites(text)``).

    >>> from coguide.cite import find_citations
    >>> cited_works(find_citations("As @a [p. 4] argues, and others agree [@b; @a, p. 4]."))
    '[@a, p. 4; @b]'
    """
    items = dict.fromkeys(
        f"@{item.key}, {item.locator}" if item.locator else f"@{item.key}"
        for citation in citations
        for item in citation.items
    )
    return f"[{'; '.join(items)}]" if items else ""


def claim_cite_box(site: Site, *, claim: str, url: str, anchor: str) -> Markup:
    """Return the "Cite this claim" box for one claim on the debates page (the page's formats, one claim's link).

    Args:
        site: The site model.
        claim: The claim as plain text.
        url: The claim's address relative to the site root (``debates/#id``).
        anchor: A prefix for the box's element ids.
    """
    box = cite_this_page(
        site, title=claim.rstrip(". "), url=url, source="datapackage/arguments.csv", anchor=anchor
    )
    return Markup(
        str(box).replace("<summary>Cite this page</summary>", "<summary>Cite this claim</summary>", 1)
    )


def era_bucket(year: int) -> str:
    """Return the heading of the era a year falls in (see `ERAS`)."""
    return next(name for first, last, name in ERAS if first <= year <= last)


# --- The ladder of participation -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Placement:
    """A record placed on Arnstein's ladder by a sentence of its own text that cites Arnstein.

    Attributes:
        record: The label or case.
        rung: The rung named (or "" when the sentence names only a band).
        band: The band: named, or the one the rung belongs to.
        evidence: The sentence that places it (Markdown with its citation).
        field: The field the sentence comes from.
    """

    record: Term | Case
    rung: str
    band: str
    evidence: str
    field: str


_RUNG_RE = re.compile(r"\b(" + "|".join(re.escape(r) for r, _ in RUNGS) + r")\b", re.IGNORECASE)
_BAND_RE = re.compile(r"\b(" + "|".join(re.escape(b) for b in BANDS) + r")\b", re.IGNORECASE)


def ladder_placements(site: Site) -> list[Placement]:
    """Return the labels and cases whose own text places them on Arnstein's ladder.

    A sentence places its record when it mentions Arnstein or the ladder, cites `LADDER_KEY`, and names a
    rung (the first one named) or, failing that, a band. Nothing else is inferred.
    """
    rung_band = dict(RUNGS)
    found: list[Placement] = []
    for resource in ("terms", "cases"):
        for record in getattr(site, resource).values():
            # The record's Markdown fields as the descriptor marks them, except lists (discussion questions).
            for name in record.text_fields:
                text = getattr(record, name, None)
                if not isinstance(text, str):
                    continue
                for sentence in _SENTENCE.findall(text):
                    if LADDER_KEY not in _CITATION_KEY.findall(sentence):
                        continue
                    if not re.search(r"arnstein|ladder", _CITATION_KEY.sub("", sentence), re.IGNORECASE):
                        continue
                    rung = _RUNG_RE.search(sentence)
                    band = _BAND_RE.search(sentence)
                    if rung:
                        found.append(
                            Placement(
                                record=record,
                                rung=rung.group(1).lower(),
                                band=rung_band[rung.group(1).lower()],
                                evidence=sentence.strip(),
                                field=name,
                            )
                        )
                    elif band:
                        found.append(
                            Placement(
                                record=record,
                                rung="",
                                band=band.group(1).lower(),
                                evidence=sentence.strip(),
                                field=name,
                            )
                        )
                    else:
                        continue
                    break
                else:
                    continue
                break
    return found


def _lines(text: str, width: int, most: int = 0) -> list[str]:
    """Wrap a text into lines of at most `width` characters; with `most`, keep that many, ending in "…"."""
    lines = textwrap.wrap(text, width=width, break_long_words=False) or [""]
    if most and len(lines) > most:
        lines = [*lines[: most - 1], lines[most - 1].rstrip(" ,;:") + "…"]
    return lines


def _text_block(x: int, y: int, lines: list[str], css: str, step: int = 16, anchor: str = "start") -> str:
    esc = html.escape
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if i == 0 else step}">{esc(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text class="{css}" x="{x}" y="{y}" text-anchor="{anchor}">{spans}</text>'


def render_ladder_svg(placements: list[Placement]) -> str:
    """Draw Arnstein's ladder (eight rungs in three bands, citizen control at the top) with the placements."""
    row, top, width = 48, 44, 440
    height = top + row * len(RUNGS) + 12
    esc = html.escape
    on_rung: dict[str, list[str]] = {}
    on_band: dict[str, list[str]] = {}
    for p in placements:
        (on_rung.setdefault(p.rung, []) if p.rung else on_band.setdefault(p.band, [])).append(p.record.title)
    placed = ", ".join(f"{p.record.title}: {p.rung or p.band}" for p in placements) or "none"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'role="img" aria-labelledby="ladder-title ladder-desc" class="figure-svg">',
        '<title id="ladder-title">Arnstein\'s ladder of citizen participation</title>',
        '<desc id="ladder-desc">Eight rungs from manipulation at the bottom to citizen control at the top, '
        "grouped as non-participation (manipulation, therapy), tokenism (informing, consultation, placation) "
        f"and citizen power (partnership, delegated power, citizen control). Placed on it: {esc(placed)}.</desc>",
        '<text class="fig-head" x="162" y="20" text-anchor="middle">Rung</text>',
        '<text class="fig-head" x="258" y="20">Placed here</text>',
        '<text class="fig-head" x="4" y="20">Band</text>',
        f'<line class="fig-rail" x1="86" y1="{top - 10}" x2="86" y2="{height - 6}"/>',
        f'<line class="fig-rail" x1="238" y1="{top - 10}" x2="238" y2="{height - 6}"/>',
    ]
    for i, (rung, band) in enumerate(reversed(RUNGS)):
        number = len(RUNGS) - i
        y = top + row * i
        parts.append(
            f'<rect class="fig-rung fig-band-{BANDS.index(band)}" x="86" y="{y}" width="152" height="{row - 12}" rx="3"/>'
        )
        parts.append(
            f'<text class="fig-label" x="162" y="{y + 23}" text-anchor="middle">{number}. {esc(rung)}</text>'
        )
        names = on_rung.get(rung, [])
        if names:
            lines = _lines("; ".join(names), 24, most=5)
            parts.append(f'<line class="fig-pointer" x1="238" y1="{y + 18}" x2="250" y2="{y + 18}"/>')
            parts.append(f'<circle class="fig-dot" cx="250" cy="{y + 18}" r="4"/>')
            parts.append(_text_block(258, y + 14 - 7 * (len(lines) - 1), lines, "fig-placed", step=14))
    for band in reversed(BANDS):
        rungs = [i for i, (_, rb) in enumerate(reversed(RUNGS)) if rb == band]
        y0, y1 = top + row * rungs[0], top + row * rungs[-1] + row - 12
        parts.append(f'<line class="fig-bracket" x1="78" y1="{y0}" x2="78" y2="{y1}"/>')
        parts.append(_text_block(4, (y0 + y1) // 2 - 4, _lines(band, 10), "fig-band-name", step=15))
        names = on_band.get(band, [])
        if names:
            parts.append(
                _text_block(258, (y0 + y1) // 2, _lines("; ".join(names), 24, most=5), "fig-placed", 14)
            )
    parts.append("</svg>")
    return "\n".join(parts)


# --- The faces of power ------------------------------------------------------------------------------------------


def face_concepts(site: Site) -> list[Concept]:
    """Return the concepts drawn as the faces of power that the data holds, in order."""
    return [site.concepts[i] for i in FACES if i in site.concepts]


def render_faces_svg(faces: list[Concept], plain: Callable[[str], str]) -> str:
    """Draw the dimensions of power as stacked panels, each with its name and the first sentence of its summary.

    Args:
        faces: The concepts, in order.
        plain: Turns a record's Markdown into plain text (citations as author-date text).
    """
    width, pad, step = 400, 12, 17
    esc = html.escape
    parts: list[str] = []
    y = 8
    for n, concept in enumerate(faces, start=1):
        lines = _lines(shorten(plain(concept.summary), 400), 50)
        box = 34 + step * len(lines)
        parts.append(
            f'<rect class="fig-panel fig-face-{n}" x="0" y="{y}" width="{width}" height="{box}" rx="4"/>'
        )
        parts.append(f'<text class="fig-label" x="{pad}" y="{y + 22}">{n}. {esc(concept.title)}</text>')
        parts.append(_text_block(pad, y + 22 + step + 4, lines, "fig-small", step=step))
        y += box + 10
    names = "; ".join(f"{n}. {c.title}" for n, c in enumerate(faces, start=1))
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" width="{width}" role="img" '
        'aria-labelledby="faces-title faces-desc" class="figure-svg">',
        '<title id="faces-title">Views of power, from the most visible to the least</title>',
        f'<desc id="faces-desc">Four panels, one per view, each with its definition: {esc(names)}.</desc>',
    ]
    return "\n".join([*head, *parts, "</svg>"])


# --- The map of the labels -------------------------------------------------------------------------------------


def label_map(site: Site) -> tuple[list[str], dict[tuple[str, str], list[Term]]]:
    """Return the sectors (most labels first) and, for each (sector, era), the labels used there then.

    A label counts in every sector it lists, in the era its ``era_start`` falls in.
    """
    cells: dict[tuple[str, str], list[Term]] = {}
    counts: dict[str, int] = {}
    for term in sorted(site.terms.values(), key=lambda t: (t.era_start, t.label)):
        for sector in term.sectors:
            cells.setdefault((sector, era_bucket(term.era_start)), []).append(term)
            counts[sector] = counts.get(sector, 0) + 1
    sectors = sorted(counts, key=lambda s: (-counts[s], s))
    return sectors, cells


def render_label_map_svg(sectors: list[str], cells: dict[tuple[str, str], list[Term]]) -> str:
    """Draw the label map: a grid of sectors (rows) by era (columns), each cell giving how many labels arose there."""
    left, top, col, row = 132, 44, 53, 28
    width = left + col * len(ERAS) + 2
    height = top + row * len(sectors) + 4
    most = max((len(v) for v in cells.values()), default=1)
    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" role="img" '
        'aria-labelledby="map-title map-desc" class="figure-svg">',
        '<title id="map-title">The labels by sector and by the era they came into use</title>',
        f'<desc id="map-desc">A grid of {len(sectors)} sectors by {len(ERAS)} eras; each cell gives the number of '
        "labels used in that sector that came into use in that era, darker for more. The table below the figure "
        "names them.</desc>",
    ]
    for c, (_, _, name) in enumerate(ERAS):
        x = left + col * c + col // 2
        parts.append(_text_block(x, 18, _lines(name, 7), "fig-small", step=14, anchor="middle"))
    for r, sector in enumerate(sectors):
        y = top + row * r
        parts.append(
            f'<text class="fig-small" x="{left - 8}" y="{y + 18}" text-anchor="end">{esc(sector.replace("-", " "))}</text>'
        )
        for c, (_, _, name) in enumerate(ERAS):
            n = len(cells.get((sector, name), []))
            x = left + col * c
            level = 0 if n == 0 else 1 + (3 * (n - 1)) // max(most, 1)
            parts.append(
                f'<rect class="fig-cell fig-level-{min(level, 4)}" x="{x + 1}" y="{y + 1}" width="{col - 2}" height="{row - 2}"/>'
            )
            if n:
                css = "fig-count fig-count-dark" if level >= 3 else "fig-count"
                parts.append(
                    f'<text class="{css}" x="{x + col // 2}" y="{y + 19}" text-anchor="middle">{n}</text>'
                )
    parts.append("</svg>")
    return "\n".join(parts)


# --- Pages -------------------------------------------------------------------------------------------------------


def figure_pages(site: Site, plain: Callable[[str], str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Return the figure-bearing pages to render: (template, src_uri, source, context) for each.

    Args:
        site: The site model.
        plain: Turns a record's Markdown into plain text.
    """
    placements = ladder_placements(site)
    faces = face_concepts(site)
    sectors, cells = label_map(site)
    ladder = site.concepts.get("ladder-of-participation")
    pages: list[tuple[str, str, str, dict[str, Any]]] = [
        (
            "figures.md.jinja",
            "figures/index.md",
            "datapackage/terms.csv, cases.csv and concepts.csv",
            {
                "ladder_cited": LADDER_KEY in site.bibliography,
                "placements": placements,
                "rungs": RUNGS,
                "bands": BANDS,
                "ladder": ladder,
                "ladder_svg": Markup(render_ladder_svg(placements)),
                "faces": faces,
                "faces_svg": Markup(render_faces_svg(faces, plain)) if faces else Markup(""),
                "sectors": sectors,
                "cells": cells,
                "eras": [name for _, _, name in ERAS],
                "map_svg": Markup(render_label_map_svg(sectors, cells)) if sectors else Markup(""),
            },
        )
    ]
    terms = sorted(site.terms.values(), key=lambda t: t.label)
    if len(terms) >= 2:
        pair = [i for i in DEFAULT_PAIR if i in site.terms]
        if len(pair) < 2:
            pair = [terms[0].id, terms[1].id]
        pages.append(
            (
                "compare.md.jinja",
                "terms/compare.md",
                "datapackage/terms.csv",
                {"terms": terms, "pair": pair},
            )
        )
    return pages
