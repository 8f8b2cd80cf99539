"""RIS: one writer of RIS records for every entry the guide exports or offers, from the parsed bibliography.

The published bibliography (``/data/references.ris``), each page's reference list as RIS and "Cite this page"
all write their records here, from pybtex entries and what the APA style decided about each
(`coguide.cite.apa.EntryFacts`: its kind, year and plain title), with LaTeX decoded. The helpers that read an
entry's names and fields are shared with the schema.org export.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pybtex.database import Entry, Person

from coguide.cite.apa import EntryFacts, latex_to_text
from coguide.cite.citations import Bibliography


def latex_text(value: str) -> str:
    """Return a BibTeX value as one line of plain text, LaTeX decoded."""
    return " ".join(str(latex_to_text(value)).split())


def bibliography_entries(bib: Bibliography) -> dict[str, Entry]:
    """Return each entry of the bibliography as validation parsed it, by key, in file order."""
    return {key: bib.entry(key) for key in bib.keys}


def name_parts(person: Person) -> tuple[str, str, str]:
    """Return a person's family name (with its particles), given names and suffix, LaTeX decoded."""
    family = " ".join(latex_text(p) for p in [*person.prelast_names, *person.last_names])
    given = " ".join(latex_text(p) for p in [*person.first_names, *person.middle_names])
    suffix = " ".join(latex_text(p) for p in person.lineage_names)
    return family, given, suffix


def entry_persons(entry: Entry, role: str) -> list[Person]:
    """Return an entry's authors or editors, without BibTeX's "and others"."""
    # BibTeX's "and others" is a person named "others"; the exports list only real names.
    return [
        p
        for p in entry.persons.get(role, ())
        if p.first_names or [n.lower() for n in p.last_names] != ["others"]
    ]


def entry_field(entry: Entry, *names: str) -> str:
    """Return the first of some fields an entry has, as plain text (empty when it has none)."""
    for name in names:
        value = (entry.fields.get(name) or "").strip()
        if value:
            return latex_text(value)
    return ""


def entry_doi(entry: Entry) -> str:
    """Return an entry's DOI without a resolver prefix (``10.1093/...``), or empty."""
    doi = (entry.fields.get("doi") or "").strip()
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", doi, flags=re.IGNORECASE)


_RIS_TYPES: Mapping[str, str] = {
    "article": "JOUR",
    "book": "BOOK",
    "mvbook": "BOOK",
    "booklet": "PAMP",
    "inbook": "CHAP",
    "incollection": "CHAP",
    "inproceedings": "CPAPER",
    "conference": "CPAPER",
    "proceedings": "CONF",
    "thesis": "THES",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "report": "RPRT",
    "techreport": "RPRT",
    "online": "ELEC",
    "unpublished": "UNPB",
    "manual": "GEN",
    "misc": "GEN",
}


_RIS_FIELDS = (("T3", ("series",)), ("ET", ("edition",)), ("VL", ("volume",)), ("IS", ("number", "issue")))
_PAGE_RANGE = re.compile(r"\s*([-–—]+)\s*")


def ris_type(entry: Entry, facts: EntryFacts) -> str:
    """Return the RIS reference type (``TY``) of a BibTeX entry, given what the APA style decided about it."""
    kind = facts.kind
    if kind == "legislation":
        return "STAT"
    if kind == "blog":
        return "BLOG"
    if kind == "webpage":
        return "ELEC"
    if kind == "chapter":
        return "CHAP"
    return _RIS_TYPES.get(entry.type.lower(), "GEN")


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def _ris_date(entry: Entry, facts: EntryFacts) -> str:
    """Return RIS's ``YYYY/MM/DD/`` from a BibLaTeX date, or from year, month and day; empty if no month."""
    match = _ISO_DATE.match((entry.fields.get("date") or "").strip())
    if match:
        return f"{match.group(1)}/{match.group(2)}/{match.group(3) or ''}/"
    if facts.year is None or facts.month is None:
        return ""
    day = f"{facts.day:02d}" if facts.day else ""
    return f"{facts.year}/{facts.month:02d}/{day}/"


def format_ris_record(key: str, entry: Entry, facts: EntryFacts) -> list[tuple[str, str]]:
    """Return one RIS record as (tag, value) pairs, from ``TY`` to ``ER``, with LaTeX decoded.

    Args:
        key: The entry's key.
        entry: The pybtex entry.
        facts: What the APA style decided about it (`Bibliography.facts`, made once per entry).
    """
    kind = ris_type(entry, facts)
    tags: list[tuple[str, str]] = [("TY", kind), ("ID", key)]
    for person in entry_persons(entry, "author"):
        tags.append(("AU", ", ".join(part for part in name_parts(person) if part)))
    for field_name in ("organization", "institution"):
        if (
            not entry.persons.get("author")
            and not entry.persons.get("editor")
            and entry_field(entry, field_name)
        ):
            tags.append(("AU", entry_field(entry, field_name)))
            break
    for person in entry_persons(entry, "editor"):
        tags.append(("ED", ", ".join(part for part in name_parts(person) if part)))
    if facts.year:
        tags.append(("PY", facts.year))
    date = _ris_date(entry, facts)
    if date:
        tags.append(("DA", date))
    tags.append(("TI", facts.title_plain))
    container = entry_field(entry, "journaltitle", "journal", "booktitle")
    if container:
        tags.append(("T2", container))
        if kind == "JOUR":
            tags.append(("JO", container))
    for tag, names in _RIS_FIELDS:
        value = entry_field(entry, *names)
        if value:
            tags.append((tag, value))
    pages = entry_field(entry, "pages")
    if pages:
        parts = _PAGE_RANGE.split(pages, maxsplit=1)
        start, end = parts[0], parts[2] if len(parts) == 3 else ""
        tags.append(("SP", start))
        if end:
            tags.append(("EP", end))
    publisher = entry_field(entry, "publisher", "institution", "school", "organization")
    if publisher:
        tags.append(("PB", publisher))
    place = entry_field(entry, "location", "address")
    if place:
        tags.append(("CY", place))
    doi = entry_doi(entry)
    if doi:
        tags.append(("DO", doi))
    url = (entry.fields.get("url") or "").strip()
    if url:
        tags.append(("UR", url))
    tags.append(("ER", ""))
    return [(tag, " ".join(value.split())) for tag, value in tags]


def ris_lines(key: str, entry: Entry, facts: EntryFacts) -> tuple[str, ...]:
    """Return one RIS record as its lines (``TY  - JOUR`` ... ``ER  - ``)."""
    return tuple(f"{tag}  - {value}" for tag, value in format_ris_record(key, entry, facts))


def render_ris(bib: Bibliography) -> str:
    """Return the whole bibliography as RIS, one record per entry in file order (CRLF line ends)."""
    lines: list[str] = []
    for key, entry in bibliography_entries(bib).items():
        lines.extend(ris_lines(key, entry, bib.facts(key)))
        lines.append("")
    return "\r\n".join(lines)
