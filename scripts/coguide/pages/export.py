"""Export: the open-data files the site publishes beside its pages (the data package, SKOS, RIS, JSON-LD).

Everything is published under ``/data/`` and is deterministic: two builds of the same sources give
byte-identical files, so a diff of the published data is a diff of the data.

Identifiers. A record's URI is its page address when the site's address is known, e.g.
``https://example.org/guide/terms/client/``. Without one (a local build) the URI is a URN made of the
data package's name, the section and the id, e.g. ``urn:coguide:coproduction-labels-guide:terms:client``.
Both are stable because ids never change (renamed records keep their old ids as aliases). The address
comes from, in order: a ``base_url`` argument, the model's ``site.info.url`` (``site_url`` in
``mkdocs.yml``), and the ``COGUIDE_SITE_URL`` environment variable that ``mkdocs.yml`` reads.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pybtex import errors as pybtex_errors
from pybtex.database import Entry, Person
from pybtex.database.input.bibtex import Parser
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS
from rdflib.plugins.serializers.turtle import TurtleSerializer

from coguide.cite import Bibliography, find_citations
from coguide.cite.apa import describe_entry, latex_to_text
from coguide.model import Case, Concept, Essay, Record, Site, Term, essay_url, record_keys
from coguide.pages.render import Page, PageJob, plain_text, url_for
from coguide.source.load import DATA_DIR, Sources

#: Where the exports are published, relative to the site root.
EXPORT_DIR = "data"
ZIP_NAME = "coproduction-guide-data.zip"
DESCRIPTOR_NAME = "datapackage.json"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
SCHEMA_ORG = "https://schema.org"

# The earliest date a zip file can hold: a fixed stamp keeps the archive byte-identical between builds.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SCHEME_TITLES = {
    "terms": "Labels for people who use public services",
    "concepts": "Concepts in the debates about co-production",
}
_SET_NAMES = {"terms": "Labels", "concepts": "Concepts"}


# --------------------------------------------------------------------------------------------- addresses


def resolve_base_url(base_url: str | None = None, site: Site | None = None) -> str | None:
    """Return the site's address with one trailing slash, or None when it is not known.

    Args:
        base_url: The address; an empty string means "not known". None falls back to the model's
            ``site.info.url`` (from ``mkdocs.yml``), then to the ``COGUIDE_SITE_URL`` environment variable.
        site: The site model, whose ``info.url`` is the second choice.
    """
    if base_url is None:
        base_url = (site.info.url if site is not None else "") or os.environ.get("COGUIDE_SITE_URL", "")
    value = base_url.strip()
    return value.rstrip("/") + "/" if value else None


def _package_name(site: Site) -> str:
    name = re.sub(r"[^a-z0-9.-]+", "-", str(site.descriptor.get("name", "")).lower()).strip("-")
    return name or "coguide"


def section_uri(site: Site, resource: str, base_url: str | None) -> str:
    """Return the URI of a section (a concept scheme): its index page, or a URN."""
    if base_url:
        return f"{base_url}{resource}/"
    return f"urn:coguide:{_package_name(site)}:{resource}"


def record_uri(site: Site, record: Record, base_url: str | None) -> str:
    """Return a record's URI: its page address under `base_url`, or a URN when there is none."""
    if base_url:
        return base_url + record.url
    return f"urn:coguide:{_package_name(site)}:{record.resource}:{record.id}"


def _licence(site: Site) -> str:
    for licence in site.descriptor.get("licenses") or ():
        if isinstance(licence, dict) and str(licence.get("path", "")).startswith("https://"):
            return str(licence["path"])
    return CC_BY


# --------------------------------------------------------------------------------------------- plain text


def describe_text(text: str, bib: Bibliography) -> str:
    """Return a record's Markdown as one line of plain text, for definitions and descriptions.

    Parenthetical citations are dropped; narrative ones keep their words ("McLaughlin (2009) argues").
    """
    pieces: list[str] = []
    last = 0
    for citation in find_citations(text):
        pieces.append(text[last : citation.start])
        if citation.narrative and all(item.key in bib for item in citation.items):
            pieces.append(bib.format_citation(citation, "text"))
        last = citation.end
    pieces.append(text[last:])
    return plain_text("".join(pieces))


def _latex(value: str) -> str:
    return " ".join(str(latex_to_text(value)).split())


# --------------------------------------------------------------------------------------------- bibliography


@lru_cache(maxsize=4096)
def _parse_entry(source: str) -> Entry:
    # pybtex reports names it cannot split through a global hook; validation has already reported them.
    # The parser class is used directly: pybtex's parse_string scans every installed entry point per call.
    with pybtex_errors.capture():
        entries = Parser().parse_string(source).entries
    return next(iter(entries.values()))


def bibliography_entries(bib: Bibliography) -> dict[str, Entry]:
    """Return each entry of the bibliography as pybtex parsed it, by key, in file order."""
    return {key: _parse_entry(bib.bibtex(key)) for key in bib.keys}


def _name_parts(person: Person) -> tuple[str, str, str]:
    family = " ".join(_latex(p) for p in [*person.prelast_names, *person.last_names])
    given = " ".join(_latex(p) for p in [*person.first_names, *person.middle_names])
    suffix = " ".join(_latex(p) for p in person.lineage_names)
    return family, given, suffix


def _persons(entry: Entry, role: str) -> list[Person]:
    # BibTeX's "and others" is a person named "others"; the exports list only real names.
    return [
        p
        for p in entry.persons.get(role, ())
        if p.first_names or [n.lower() for n in p.last_names] != ["others"]
    ]


def _field(entry: Entry, *names: str) -> str:
    for name in names:
        value = (entry.fields.get(name) or "").strip()
        if value:
            return _latex(value)
    return ""


def _doi(entry: Entry) -> str:
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


def ris_type(entry: Entry) -> str:
    """Return the RIS reference type (``TY``) of a BibTeX entry."""
    kind = describe_entry(entry).kind
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


def _ris_date(entry: Entry) -> str:
    """Return RIS's ``YYYY/MM/DD/`` from a BibLaTeX date, or from year, month and day; empty if no month."""
    match = _ISO_DATE.match((entry.fields.get("date") or "").strip())
    if match:
        return f"{match.group(1)}/{match.group(2)}/{match.group(3) or ''}/"
    facts = describe_entry(entry)
    if facts.year is None or facts.month is None:
        return ""
    day = f"{facts.day:02d}" if facts.day else ""
    return f"{facts.year}/{facts.month:02d}/{day}/"


def format_ris_record(key: str, entry: Entry) -> list[tuple[str, str]]:
    """Return one RIS record as (tag, value) pairs, from ``TY`` to ``ER``, with LaTeX decoded."""
    facts = describe_entry(entry)
    kind = ris_type(entry)
    tags: list[tuple[str, str]] = [("TY", kind), ("ID", key)]
    for person in _persons(entry, "author"):
        tags.append(("AU", ", ".join(part for part in _name_parts(person) if part)))
    for field_name in ("organization", "institution"):
        if not entry.persons.get("author") and not entry.persons.get("editor") and _field(entry, field_name):
            tags.append(("AU", _field(entry, field_name)))
            break
    for person in _persons(entry, "editor"):
        tags.append(("ED", ", ".join(part for part in _name_parts(person) if part)))
    if facts.year:
        tags.append(("PY", facts.year))
    date = _ris_date(entry)
    if date:
        tags.append(("DA", date))
    tags.append(("TI", facts.title_plain))
    container = _field(entry, "journaltitle", "journal", "booktitle")
    if container:
        tags.append(("T2", container))
        if kind == "JOUR":
            tags.append(("JO", container))
    for tag, names in _RIS_FIELDS:
        value = _field(entry, *names)
        if value:
            tags.append((tag, value))
    pages = _field(entry, "pages")
    if pages:
        parts = _PAGE_RANGE.split(pages, maxsplit=1)
        start, end = parts[0], parts[2] if len(parts) == 3 else ""
        tags.append(("SP", start))
        if end:
            tags.append(("EP", end))
    publisher = _field(entry, "publisher", "institution", "school", "organization")
    if publisher:
        tags.append(("PB", publisher))
    place = _field(entry, "location", "address")
    if place:
        tags.append(("CY", place))
    doi = _doi(entry)
    if doi:
        tags.append(("DO", doi))
    url = (entry.fields.get("url") or "").strip()
    if url:
        tags.append(("UR", url))
    tags.append(("ER", ""))
    return [(tag, " ".join(value.split())) for tag, value in tags]


def render_ris_for(bib: Bibliography, keys: Iterable[str]) -> str:
    """Return some entries of the bibliography as RIS, in the order given (CRLF line ends).

    Raises:
        KeyError: A key is not in the bibliography.
    """
    lines: list[str] = []
    for key in keys:
        lines.extend(_ris_lines(key, bib.bibtex(key)))
        lines.append("")
    return "\r\n".join(lines)


@functools.lru_cache(maxsize=4096)
def _ris_lines(key: str, source: str) -> tuple[str, ...]:
    """Return one entry's RIS lines; a function of its BibTeX source, so each is made once per build.

    Every page offers its own references as RIS, so a work cited on many pages was formatted again for each.
    """
    return tuple(f"{tag}  - {value}" for tag, value in format_ris_record(key, _parse_entry(source)))


def render_ris(bib: Bibliography) -> str:
    """Return the whole bibliography as RIS, one record per entry in file order (CRLF line ends)."""
    lines: list[str] = []
    for key, entry in bibliography_entries(bib).items():
        lines.extend(f"{tag}  - {value}" for tag, value in format_ris_record(key, entry))
        lines.append("")
    return "\r\n".join(lines)


# --------------------------------------------------------------------------------------------- data package


def package_files(sources: Sources) -> list[tuple[str, bytes]]:
    """Return the data package's files (descriptor, tables, bibliography) as (name, bytes), sorted by name.

    Raises:
        ValueError: A resource path in the descriptor points outside the package folder.
    """
    names = {DESCRIPTOR_NAME}
    for resource in sources.descriptor.get("resources", []):
        paths = resource.get("path") if isinstance(resource, dict) else None
        for path in [paths] if isinstance(paths, str) else (paths or []):
            pure = PurePosixPath(str(path))
            if pure.is_absolute() or ".." in pure.parts or "://" in str(path):
                raise ValueError(f"datapackage.json: resource path {path!r} is not a file in datapackage/")
            names.add(pure.as_posix())
    folder = sources.root / DATA_DIR
    return [(name, (folder / name).read_bytes()) for name in sorted(names)]


#: First characters that make a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Where the spreadsheet copies of the tables are published, under the export folder.
SPREADSHEET_DIR = "spreadsheet"


def spreadsheet_csv(data: bytes) -> bytes:
    """Return a CSV table with every cell that a spreadsheet would run as a formula made plain text.

    Such a cell gets a leading apostrophe, which Excel, LibreOffice and Google Sheets read as "this is text"
    and do not show. The source tables (and the data package published beside these copies) are unchanged:
    an apostrophe there would corrupt ids, citations and Markdown for every program that is not a spreadsheet.
    """
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["'" + cell if cell.startswith(FORMULA_STARTS) else cell for cell in row])
    # A byte-order mark makes Excel read the file as UTF-8 rather than the system's code page.
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


#: The deflated form of each package file in the last zip, by the SHA-256 of its content, with its CRC-32: an
#: edit to one table recompresses that table only. A function of the content alone (one archive's worth is kept).
_DEFLATED: dict[bytes, tuple[int, bytes]] = {}
#: The largest member and archive the zip is written for without ZIP64 extensions (larger ones go to zipfile).
_ZIP32_LIMIT = (1 << 31) - 1


def _deflate(data: bytes) -> tuple[int, bytes]:
    """Return a file's CRC-32 and its raw deflate stream at level 9, as `zipfile` makes them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return zlib.crc32(data), compressor.compress(data) + compressor.flush()


def render_zip(files: Iterable[tuple[str, bytes]]) -> bytes:
    """Return a zip of `files` that is byte-identical whenever the files are (fixed dates, sorted names).

    The archive is laid out as `zipfile` writes it (`zipfile_zip` is that reference): each member deflated at
    level 9, dated 1980-01-01, Unix mode 0644, no extra fields or comments. A member whose content was in the
    last archive reuses its deflated bytes, so regenerating after an edit to one table compresses one table.
    """
    members = sorted(files)
    if len(members) >= 0xFFFF or sum(len(data) for _, data in members) * 1.05 > _ZIP32_LIMIT:
        return zipfile_zip(members)
    year, month, day, hour, minute, second = _ZIP_DATE
    dos_date = (year - 1980) << 9 | month << 5 | day
    dos_time = hour << 11 | minute << 5 | second // 2
    deflated: dict[bytes, tuple[int, bytes]] = {}
    body, directory = io.BytesIO(), io.BytesIO()
    for name, data in members:
        digest = hashlib.sha256(data).digest()
        crc, packed = deflated[digest] = deflated.get(digest) or _DEFLATED.get(digest) or _deflate(data)
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), 0x800
        offset = body.tell()
        sizes = (crc, len(packed), len(data), len(encoded))
        body.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, flags, 8, dos_time, dos_date, *sizes, 0))
        body.write(encoded)
        body.write(packed)
        directory.write(
            struct.pack(
                "<4s4B4HL2L5H2L",
                *(b"PK\x01\x02", 20, 3, 20, 0, flags, 8, dos_time, dos_date, *sizes),
                *(0, 0, 0, 0, 0o100644 << 16, offset),
            )
        )
        directory.write(encoded)
    _DEFLATED.clear()
    _DEFLATED.update(deflated)
    start, size = body.tell(), directory.tell()
    if start + size > _ZIP32_LIMIT:
        return zipfile_zip(members)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), size, start, 0)
    return body.getvalue() + directory.getvalue() + end


def zipfile_zip(files: Iterable[tuple[str, bytes]]) -> bytes:
    """Return the zip of `render_zip` as `zipfile` writes it (every member compressed afresh)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------- SKOS


@dataclass(frozen=True)
class SkosText:
    """A literal of the SKOS exports: English text (every label, title and definition is one)."""

    text: str


#: The SKOS statements: subject URI -> predicate URI -> the objects (a URI as str, or a `SkosText`).
SkosStatements = dict[str, dict[str, set["str | SkosText"]]]

_TYPE = str(RDF.type)
_CONCEPT_SCHEME = str(SKOS.ConceptScheme)
_CONCEPT = str(SKOS.Concept)


def skos_statements(site: Site, base_url: str | None = None) -> SkosStatements:
    """Return the labels and concepts as two SKOS concept schemes, as statements by subject and predicate.

    Args:
        site: The site model.
        base_url: The site's address (see the module docstring); None: see `resolve_base_url`.
    """
    base = resolve_base_url(base_url, site)
    statements: SkosStatements = {}

    def add(subject: str, predicate: URIRef, value: str | SkosText) -> None:
        statements.setdefault(subject, {}).setdefault(str(predicate), set()).add(value)

    licence = _licence(site)
    bib = site.bibliography
    uri = {
        (r.resource, r.id): record_uri(site, r, base) for r in [*site.terms.values(), *site.concepts.values()]
    }
    schemes = {resource: section_uri(site, resource, base) for resource in ("terms", "concepts")}
    for resource, scheme in schemes.items():
        add(scheme, RDF.type, _CONCEPT_SCHEME)
        add(scheme, SKOS.prefLabel, SkosText(_SCHEME_TITLES[resource]))
        add(scheme, DCTERMS.title, SkosText(_SCHEME_TITLES[resource]))
        add(scheme, DCTERMS.license, licence)
        if base:
            add(scheme, DCTERMS.source, f"{base}{EXPORT_DIR}/{DESCRIPTOR_NAME}")

    def concept_node(
        node: str, scheme: str, label: str, also: Iterable[str], text: str, *, top: bool
    ) -> None:
        add(node, RDF.type, _CONCEPT)
        add(node, SKOS.inScheme, scheme)
        add(node, SKOS.prefLabel, SkosText(label))
        for alt in also:
            if alt != label:
                add(node, SKOS.altLabel, SkosText(alt))
        add(node, SKOS.definition, SkosText(describe_text(text, bib)))
        if top:
            add(node, SKOS.topConceptOf, scheme)
            add(scheme, SKOS.hasTopConcept, node)

    for term in site.terms.values():
        node = uri["terms", term.id]
        concept_node(node, schemes["terms"], term.label, term.also_known_as, term.definition, top=True)
        for concept in term.concepts:
            add(node, SKOS.related, uri["concepts", concept])
            add(uri["concepts", concept], SKOS.related, node)
    for concept in site.concepts.values():
        node = uri["concepts", concept.id]
        concept_node(
            node,
            schemes["concepts"],
            concept.name,
            concept.also_known_as,
            concept.summary,
            top=concept.broader is None,
        )
        if concept.broader:
            add(node, SKOS.broader, uri["concepts", concept.broader])
        for narrower in concept.narrower:
            add(node, SKOS.narrower, uri["concepts", narrower])
        for related in concept.related:
            add(node, SKOS.related, uri["concepts", related])
        for term in concept.terms:
            add(node, SKOS.related, uri["terms", term])
    return statements


def build_skos_graph(site: Site, base_url: str | None = None) -> Graph:
    """Return the labels and concepts as two SKOS concept schemes, as an rdflib graph.

    Args:
        site: The site model.
        base_url: The site's address (see the module docstring); None: see `resolve_base_url`.
    """
    return skos_graph(skos_statements(site, base_url))


def skos_graph(statements: SkosStatements) -> Graph:
    """Return SKOS statements (`skos_statements`) as an rdflib graph."""
    graph = Graph()
    graph.bind("skos", SKOS)
    graph.bind("dcterms", DCTERMS)
    for subject, predicates in statements.items():
        for predicate, values in predicates.items():
            for value in values:
                node = Literal(value.text, lang="en") if isinstance(value, SkosText) else URIRef(value)
                graph.add((URIRef(subject), URIRef(predicate), node))
    return graph


def _sorted_jsonld(value: Any) -> Any:
    """Put a JSON-LD document in a canonical order (rdflib lists a node's values in set order)."""
    if isinstance(value, dict):
        return {k: _sorted_jsonld(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [_sorted_jsonld(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


class _SkosTurtleSerializer(TurtleSerializer):
    """Turtle with the schemes first, then every concept, each group sorted by URI, for readable diffs."""

    topClasses = [SKOS.ConceptScheme, SKOS.Concept]  # noqa: RUF012  (rdflib's own class attribute)


def render_skos(graph: Graph) -> tuple[str, str]:
    """Return the SKOS graph as Turtle and as JSON-LD, both in a canonical order."""
    stream = io.BytesIO()
    _SkosTurtleSerializer(graph).serialize(stream, encoding="utf-8")
    turtle = stream.getvalue().decode("utf-8")
    context = {"skos": str(SKOS), "dcterms": str(DCTERMS)}
    document = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    canonical = _sorted_jsonld(document)
    return turtle, json.dumps(canonical, indent=2, ensure_ascii=False) + "\n"


_SKOS_PREFIXES = {"dcterms": str(DCTERMS), "skos": str(SKOS)}
#: Characters rdflib refuses in a URI (it cannot write it in Turtle).
_NOT_IN_URI = re.compile(r'[<>" {}|\\^`]')


@functools.cache
def _bound_namespaces() -> tuple[str, ...]:
    """Return the namespaces an rdflib graph binds to a prefix, whose URIs it writes as prefixed names."""
    return tuple(str(namespace) for _, namespace in Graph().namespaces())


def _qname(uri: str) -> str:
    for prefix, namespace in _SKOS_PREFIXES.items():
        if uri.startswith(namespace):
            return f"{prefix}:{uri[len(namespace) :]}"
    raise ValueError(f"{uri} is in neither the SKOS nor the DCMI terms namespace")


def _plainly_writable(statements: SkosStatements) -> bool:
    """Return True when `write_skos` writes exactly what rdflib does.

    That is when every subject has one type (a concept or a concept scheme), every predicate is SKOS's or DCMI's,
    every subject and object URI is written in full (none lies in a namespace rdflib abbreviates, none has a
    character rdflib refuses), a predicate's objects are all URIs or all text, and there are several subjects
    (JSON-LD's ``@graph``).
    """
    bound = _bound_namespaces()

    def plain(uri: str) -> bool:
        return not uri.startswith(bound) and not _NOT_IN_URI.search(uri)

    for subject, predicates in statements.items():
        if not plain(subject) or _TYPE not in predicates:
            return False
        for predicate, values in predicates.items():
            if predicate == _TYPE:
                if len(values) != 1 or not values <= {_CONCEPT, _CONCEPT_SCHEME}:
                    return False
            elif (
                not predicate.startswith(tuple(_SKOS_PREFIXES.values()))
                or not all(isinstance(value, SkosText) or plain(value) for value in values)
                or len({type(value) for value in values}) != 1
            ):
                return False
    return len(statements) > 1


def _sort_key(value: str | SkosText) -> tuple[int, str]:
    return (1, value.text) if isinstance(value, SkosText) else (0, value)


def write_skos(statements: SkosStatements) -> tuple[str, str]:
    """Return SKOS statements as Turtle and as JSON-LD, byte for byte what `render_skos` makes of their graph.

    rdflib's serialisers are general (and slow: most of an export's time at a thousand records); the statements
    here are a fixed shape (URIs in full, English literals, no blank nodes), so they are written directly, in
    rdflib's layout and order. Statements outside that shape go through rdflib (`render_skos`).
    """
    if not _plainly_writable(statements):
        return render_skos(skos_graph(statements))
    used = {_qname(value).split(":")[0] for predicates in statements.values() for value in predicates[_TYPE]}
    used |= {
        _qname(predicate).split(":")[0]
        for predicates in statements.values()
        for predicate in predicates
        if predicate != _TYPE
    }
    turtle = [
        f"@prefix {prefix}: <{_SKOS_PREFIXES[prefix]}> .\n" for prefix in sorted(used & _SKOS_PREFIXES.keys())
    ]
    nodes: list[dict[str, Any]] = []

    def subjects_of(kind: str) -> list[str]:
        return sorted(s for s, predicates in statements.items() if kind in predicates.get(_TYPE, ()))

    for subject in [*subjects_of(_CONCEPT_SCHEME), *subjects_of(_CONCEPT)]:
        predicates = statements[subject]
        order = sorted(predicates)
        if _TYPE in predicates:
            order.remove(_TYPE)
            order.insert(0, _TYPE)
        node: dict[str, Any] = {"@id": subject}
        parts = [f"\n<{subject}>"]
        for index, predicate in enumerate(order):
            values = sorted(predicates[predicate], key=_sort_key)
            if predicate == _TYPE:
                written = [_qname(value) for value in values]
                verb, key, items = "a", "@type", written
            else:
                written = [
                    Literal(value.text, lang="en").n3() if isinstance(value, SkosText) else f"<{value}>"
                    for value in values
                ]
                verb = key = _qname(predicate)
                # JSON-LD's canonical order (`_sorted_jsonld`) sorts a list by each item's JSON, which for
                # these one-string objects is the order of the string's JSON.
                items = sorted(
                    (
                        {"@language": "en", "@value": value.text}
                        if isinstance(value, SkosText)
                        else {"@id": value}
                        for value in values
                    ),
                    key=lambda item: _json(item.get("@value", item.get("@id"))),
                )
            parts.append((" " if index == 0 else " ;\n    ") + verb + " " + ",\n        ".join(written))
            node[key] = items[0] if len(items) == 1 else items
        parts.append(" .\n")
        turtle.append("".join(parts))
        nodes.append(dict(sorted(node.items())))
    turtle.append("\n")
    text = "".join(turtle).encode("utf-8", "replace").decode("utf-8")
    context = {"dcterms": str(DCTERMS), "skos": str(SKOS)}
    nodes.sort(key=lambda node: _json(node["@id"]))
    return text, _indented_json({"@context": context, "@graph": nodes}, "") + "\n"


def _json(text: str) -> str:
    """Return a string as JSON, as ``json.dumps(text, ensure_ascii=False)`` does (without making an encoder)."""
    return encode_basestring(text)


def _indented_json(value: Any, indent: str) -> str:
    """Return strings, lists and dictionaries as ``json.dumps(value, indent=2, ensure_ascii=False)`` does.

    The standard encoder falls back to pure Python when it indents; this does the same with less machinery.
    """
    if isinstance(value, str):
        return _json(value)
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        body = ",\n".join(
            f"{inner}{_json(key)}: {_indented_json(item, inner)}" for key, item in value.items()
        )
        return "{\n" + body + "\n" + indent + "}"
    if not value:
        return "[]"
    return "[\n" + ",\n".join(inner + _indented_json(item, inner) for item in value) + "\n" + indent + "]"


# --------------------------------------------------------------------------------------------- pages


def render_exports(site: Site, sources: Sources, base_url: str | None = None) -> list[Page]:
    """Return the data files to publish under ``/data/``.

    They are the data package as it is in ``datapackage/`` (descriptor, tables, bibliography), a zip
    of those files, the bibliography as RIS, and the labels and concepts as SKOS (Turtle and JSON-LD).

    Args:
        site: The site model.
        sources: The sources the model was built from (the package files are copied byte for byte).
        base_url: The site's address, for SKOS URIs; None: see `resolve_base_url`.
    """
    files = package_files(sources)
    # Every export is a function of the package's bytes and the site's address, so under `coguide serve`
    # an edit to an essay or a template reuses the last exports instead of rebuilding the SKOS graph.
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    key = (digest.hexdigest(), resolve_base_url(base_url, site))
    cached = _EXPORTS.get(key)
    if cached is not None:
        return list(cached)
    pages = [page for job in export_jobs(site, sources, base_url, files=files) for page in job.make()]
    pages.sort(key=lambda page: page.src_uri)
    _EXPORTS.clear()
    _EXPORTS[key] = tuple(pages)
    return pages


def export_jobs(
    site: Site,
    sources: Sources,
    base_url: str | None = None,
    *,
    files: list[tuple[str, bytes]] | None = None,
) -> list[PageJob]:
    """Return the jobs that make the data files of `render_exports`, each with what it depends on.

    A copy of a package file (and its spreadsheet form) depends on that file (``file:datapackage/<name>``),
    the zip on every package file (``package``), the RIS on the works (``references``) and the SKOS files on
    the labels, the concepts, the works' keys and order (``reference-list``) and the works cited in the texts
    SKOS gives (the labels' definitions and the concepts' summaries).
    """
    files = package_files(sources) if files is None else files
    jobs = []
    for name, data in files:
        depends = frozenset({f"file:{DATA_DIR}/{name}"})

        def copies(name: str = name, data: bytes = data) -> list[Page]:
            pages = [Page(src_uri=f"{EXPORT_DIR}/{name}", content=data, source=f"{DATA_DIR}/{name}")]
            if name.endswith(".csv"):
                pages.append(
                    Page(
                        src_uri=f"{EXPORT_DIR}/{SPREADSHEET_DIR}/{name}",
                        content=spreadsheet_csv(data),
                        source=f"{DATA_DIR}/{name}",
                    )
                )
            return pages

        jobs.append(PageJob(key=f"{EXPORT_DIR}/{name}", depends=depends, make=copies))
    jobs.append(
        PageJob(
            key=f"{EXPORT_DIR}/{ZIP_NAME}",
            depends=frozenset({"package"}),
            make=lambda: [
                Page(src_uri=f"{EXPORT_DIR}/{ZIP_NAME}", content=render_zip(files), source=f"{DATA_DIR}/")
            ],
        )
    )
    jobs.append(
        PageJob(
            key=f"{EXPORT_DIR}/references.ris",
            depends=frozenset({"references"}),
            make=lambda: [
                Page(
                    src_uri=f"{EXPORT_DIR}/references.ris",
                    content=render_ris(site.bibliography),
                    source=sources.bib_path,
                )
            ],
        )
    )

    # SKOS gives each label's definition and each concept's summary (a narrative citation keeps its words).
    skos_keys = {
        f"ref:{item.key}"
        for text in [
            *(t.definition for t in site.terms.values()),
            *(c.summary for c in site.concepts.values()),
        ]
        for citation in find_citations(text)
        for item in citation.items
    }

    def skos() -> list[Page]:
        turtle, jsonld = write_skos(skos_statements(site, base_url))
        source = "datapackage/terms.csv and concepts.csv"
        return [
            Page(src_uri=f"{EXPORT_DIR}/skos.ttl", content=turtle, source=source),
            Page(src_uri=f"{EXPORT_DIR}/skos.jsonld", content=jsonld, source=source),
        ]

    jobs.append(
        PageJob(
            key=f"{EXPORT_DIR}/skos",
            depends=frozenset({"kind:terms", "kind:concepts", "reference-list", *skos_keys}),
            make=skos,
        )
    )
    return jobs


#: The last exports, keyed by the package's digest and the site's address (one entry).
_EXPORTS: dict[tuple[str, str | None], tuple[Page, ...]] = {}


# --------------------------------------------------------------------------------------------- schema.org


def _link(page_url: str, target: str, base: str | None) -> str:
    # Relative references resolve against the page that embeds the JSON-LD, so they stay right
    # wherever the site is served; with a known address they are absolute, as search engines prefer.
    return base + target if base else url_for(page_url, target)


def _website(site: Site, page_url: str, base: str | None) -> dict[str, Any]:
    return {"@type": "WebSite", "name": site.info.name, "url": base or url_for(page_url, "./")}


_WORK_TYPES: Mapping[str, str] = {
    "article": "ScholarlyArticle",
    "book": "Book",
    "chapter": "Chapter",
    "report": "Report",
    "thesis": "Thesis",
    "webpage": "WebPage",
    "blog": "BlogPosting",
    "legislation": "Legislation",
}


def reference_jsonld(bib: Bibliography, key: str) -> dict[str, Any]:
    """Return a bibliography entry as a schema.org CreativeWork (name, authors, date, link).

    Raises:
        KeyError: The key is not in the bibliography.
    """
    entry = _parse_entry(bib.bibtex(key))
    facts = describe_entry(entry)
    work: dict[str, Any] = {"@type": _WORK_TYPES.get(facts.kind, "CreativeWork"), "name": facts.title_plain}
    authors = []
    for person in _persons(entry, "author") or _persons(entry, "editor"):
        family, given, suffix = _name_parts(person)
        if given:
            authors.append(
                {
                    "@type": "Person",
                    "name": " ".join(filter(None, (given, family, suffix))),
                    "familyName": family,
                    "givenName": given,
                }
            )
        else:
            authors.append({"@type": "Organization", "name": family})
    if authors:
        work["author"] = authors
    if facts.year:
        work["datePublished"] = facts.year
    doi = _doi(entry)
    url = (entry.fields.get("url") or "").strip()
    if doi:
        work["url"] = f"https://doi.org/{doi}"
    elif url.startswith(("http://", "https://")):
        work["url"] = url
    return work


def _defined_term_set(resource: str, page_url: str, base: str | None) -> dict[str, Any]:
    return {
        "@type": "DefinedTermSet",
        "name": _SET_NAMES[resource],
        "url": _link(page_url, f"{resource}/", base),
    }


#: schema.org types for the kinds of case; programmes and initiatives have no closer type than Thing.
_CASE_TYPES: Mapping[str, str] = {
    "legislation": "Legislation",
    "report": "Report",
    "study": "CreativeWork",
    "policy": "CreativeWork",
    "service": "Service",
}


def record_jsonld(
    site: Site, record: Record, page_url: str, *, base_url: str | None = None
) -> dict[str, Any]:
    """Return the schema.org JSON-LD describing a label, concept or case page.

    Labels and concepts are a ``DefinedTerm`` in a ``DefinedTermSet``; a case is ``Legislation``,
    ``Report``, ``CreativeWork``, ``Service`` or ``Thing`` according to its kind.

    Args:
        site: The site model.
        record: A term, concept or case.
        page_url: The URL of the page that will embed the JSON-LD, relative to the site root.
        base_url: The site's address; None: see `resolve_base_url`. Without one, links are relative.

    Raises:
        TypeError: The record has no page of its own (questions and arguments live on the debates page).
    """
    base = resolve_base_url(base_url, site)
    bib = site.bibliography
    data: dict[str, Any] = {"@context": SCHEMA_ORG}
    if isinstance(record, (Term, Concept)):
        name = record.label if isinstance(record, Term) else record.name
        text = record.definition if isinstance(record, Term) else record.summary
        data |= {
            "@type": "DefinedTerm",
            "name": name,
            "termCode": record.id,
            "description": describe_text(text, bib),
            "inDefinedTermSet": _defined_term_set(record.resource, page_url, base),
        }
        if record.also_known_as:
            data["alternateName"] = list(record.also_known_as)
    elif isinstance(record, Case):
        kind = _CASE_TYPES.get(record.kind, "Thing")
        data |= {
            "@type": kind,
            "name": record.title,
            "identifier": record.id,
            "description": describe_text(record.summary, bib),
        }
        if record.source_url:
            data["sameAs"] = record.source_url
        if kind not in ("Thing", "Service"):
            end = record.end_year if record.end_year and record.end_year != record.start_year else None
            data["temporalCoverage"] = f"{record.start_year}/{end}" if end else str(record.start_year)
            data["spatialCoverage"] = {"@type": "Place", "name": record.country}
            citations = [reference_jsonld(bib, key) for key in record_keys(record) if key in bib]
            if citations:
                data["citation"] = citations
        elif kind == "Service":
            data["areaServed"] = record.country
    else:
        raise TypeError(f"{type(record).__name__} {record.id!r} has no page of its own")
    data["url"] = _link(page_url, record.url, base)
    data["isPartOf"] = _website(site, page_url, base)
    if base:
        data["@id"] = base + record.url
    data["license"] = _licence(site)
    return data


def _about(site: Site, category: str, page_url: str, base: str | None) -> dict[str, Any]:
    wanted = category.casefold()
    for resource in ("concepts", "terms"):
        for record in getattr(site, resource).values():
            name = record.name if isinstance(record, Concept) else record.label
            if wanted in {n.casefold() for n in (name, *record.also_known_as)}:
                return {
                    "@type": "DefinedTerm",
                    "name": name,
                    "url": _link(page_url, record.url, base),
                    "inDefinedTermSet": _defined_term_set(resource, page_url, base),
                }
    return {"@type": "Thing", "name": category}


def essay_jsonld(
    site: Site,
    essay: Essay,
    *,
    base_url: str | None = None,
    authors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return the schema.org ``ScholarlyArticle`` describing an essay.

    Its categories become ``about`` (a label or concept of the same name links to its page) and every
    work it cites becomes a ``citation``.

    Args:
        site: The site model.
        essay: The essay.
        base_url: The site's address; None: see `resolve_base_url`. Without one, links are relative.
        authors: Author names by the ids used in front matter (see `load_author_names`); an unknown id
            is used as the name.
    """
    base = resolve_base_url(base_url, site)
    page_url = essay_url(essay)
    names = authors or {}
    data: dict[str, Any] = {
        "@context": SCHEMA_ORG,
        "@type": "ScholarlyArticle",
        "headline": essay.title,
        "name": essay.title,
        "datePublished": essay.date.isoformat(),
        "author": [{"@type": "Person", "name": names.get(author, author)} for author in essay.authors],
        "inLanguage": "en",
        "url": _link(page_url, page_url, base),
        "isPartOf": _website(site, page_url, base),
        "license": _licence(site),
    }
    if base:
        data["@id"] = base + page_url
    if essay.description or essay.excerpt:
        data["description"] = describe_text(essay.description or essay.excerpt, site.bibliography)
    if essay.categories:
        data["about"] = [_about(site, category, page_url, base) for category in essay.categories]
        data["keywords"] = list(essay.categories)
    citations = [reference_jsonld(site.bibliography, key) for key in essay.keys if key in site.bibliography]
    if citations:
        data["citation"] = citations
    return data


def page_jsonld(
    site: Site,
    src_uri: str,
    *,
    base_url: str | None = None,
    authors: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """Return the schema.org JSON-LD for the page built from `src_uri`, or None for other pages.

    Args:
        site: The site model.
        src_uri: The page's source path relative to the pages (``terms/client.md``, ``blog/posts/x.md``).
        base_url: The site's address; None: see `resolve_base_url`.
        authors: Essay author names by id (see `load_author_names`).
    """
    for resource in ("terms", "concepts", "cases"):
        for record in getattr(site, resource).values():
            if record.src_uri == src_uri:
                return record_jsonld(site, record, record.url, base_url=base_url)
    for essay in site.essays:
        if essay.src_uri == src_uri:
            return essay_jsonld(site, essay, base_url=base_url, authors=authors)
    return None


def load_author_names(root: Path | str, authors_file: str = "docs/blog/.authors.yml") -> dict[str, str]:
    """Return essay author names by id from the blog's authors file (empty if it is missing or unreadable)."""
    path = Path(root) / authors_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    entries = data.get("authors", {}) if isinstance(data, dict) else {}
    if not isinstance(entries, dict):
        return {}
    return {
        str(key): str(value.get("name", key)) for key, value in entries.items() if isinstance(value, dict)
    }
