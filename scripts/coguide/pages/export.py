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
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS
from rdflib.plugins.serializers.turtle import TurtleSerializer

from coguide.cite import Bibliography
from coguide.cite.ris import (
    entry_doi,
    entry_persons,
    name_parts,
    render_ris,
)
from coguide.links import url_for
from coguide.model import (
    DATA_DIR,
    Case,
    Concept,
    Essay,
    ParsedTexts,
    Record,
    Site,
    Term,
    essay_url,
    record_keys,
)
from coguide.pages.render import Page, PageJob, plain_text

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


def describe_text(text: str, bib: Bibliography, texts: ParsedTexts | None = None) -> str:
    """Return a record's Markdown as one line of plain text, for definitions and descriptions.

    Parenthetical citations are dropped; narrative ones keep their words ("McLaughlin (2009) argues").

    Args:
        text: The Markdown.
        bib: The bibliography.
        texts: The model's parsed texts, whose citations are read (without them, the text is parsed here).
    """
    pieces: list[str] = []
    last = 0
    for citation in (texts if texts is not None else ParsedTexts()).cites(text):
        pieces.append(text[last : citation.start])
        if citation.narrative and all(item.key in bib for item in citation.items):
            pieces.append(bib.format_citation(citation, "text"))
        last = citation.end
    pieces.append(text[last:])
    return plain_text("".join(pieces))


# --------------------------------------------------------------------------------------------- data package


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


class ZipMembers:
    """Compressed members of the data zip, kept between runs so that an edit compresses only the files it changed.

    Each member is kept with the digest of the content it was compressed from; a member whose content changed
    (or a new one) is compressed again, and one no longer asked for is dropped.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._kept: dict[str, tuple[bytes, int, bytes]] = {}

    def compressed(self, files: list[tuple[str, bytes]]) -> list[tuple[str, int, bytes]]:
        """Return each file's name, CRC-32 and raw deflate stream (level 9), compressing only what changed."""
        out = []
        kept: dict[str, tuple[bytes, int, bytes]] = {}
        for name, data in files:
            digest = hashlib.sha256(data).digest()
            member = self._kept.get(name)
            if member is None or member[0] != digest:
                packer = zlib.compressobj(9, zlib.DEFLATED, -15)
                member = (digest, zlib.crc32(data), packer.compress(data) + packer.flush())
            kept[name] = member
            out.append((name, member[1], member[2]))
        self._kept = kept
        return out


# The zip's records (PKWARE APPNOTE 4.3): the same fields, in the same order, as Python's zipfile writes for a
# deflated member of fixed date with Unix permissions, so the archive is what zipfile would make of the files.
_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_DEFLATED = 8
_VERSION = 20  # 2.0: deflate
_UNIX = 3
_FILE_MODE = 0o100644 << 16
_UTF8_NAME = 0x800


def render_zip(files: Iterable[tuple[str, bytes]], members: ZipMembers | None = None) -> bytes:
    """Return a zip of `files` that is byte-identical whenever the files are (fixed dates, sorted names).

    Args:
        files: Each file's name and content.
        members: Members compressed by an earlier run, reused where the content is the same (updated).
    """
    ordered = sorted(files)
    year, month, day, hour, minute, second = _ZIP_DATE
    date = (year - 1980) << 9 | month << 5 | day
    clock = hour << 11 | minute << 5 | second // 2
    local, central = bytearray(), bytearray()
    compressed = (members or ZipMembers()).compressed(ordered)
    for (name, data), (_, crc, packed) in zip(ordered, compressed, strict=True):
        try:
            raw, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            raw, flags = name.encode("utf-8"), _UTF8_NAME
        offset = len(local)
        local += _LOCAL.pack(
            b"PK\x03\x04", _VERSION, flags, _DEFLATED, clock, date, crc, len(packed), len(data), len(raw), 0
        )
        local += raw + packed
        central += _CENTRAL.pack(
            b"PK\x01\x02", _VERSION, _UNIX, _VERSION, 0, flags, _DEFLATED, clock, date, crc,
            len(packed), len(data), len(raw), 0, 0, 0, 0, _FILE_MODE, offset,
        )  # fmt: skip
        central += raw
    count = len(ordered)
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(central), len(local), 0)
    return bytes(local + central + end)


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
        add(node, SKOS.definition, SkosText(describe_text(text, bib, site.texts)))
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


def render_exports(site: Site, base_url: str | None = None) -> list[Page]:
    """Return the data files to publish under ``/data/``.

    They are the data package as it is in ``datapackage/`` (descriptor, tables, bibliography), a zip
    of those files, the bibliography as RIS, and the labels and concepts as SKOS (Turtle and JSON-LD).

    Args:
        site: The site model (the package files are copied byte for byte from `site.package`).
        base_url: The site's address, for SKOS URIs; None: see `resolve_base_url`.
    """
    pages = [page for job in export_jobs(site, base_url) for page in job.make()]
    pages.sort(key=lambda page: page.src_uri)
    return pages


def export_jobs(
    site: Site,
    base_url: str | None = None,
    *,
    files: list[tuple[str, bytes]] | None = None,
    zipped: ZipMembers | None = None,
) -> list[PageJob]:
    """Return the jobs that make the data files of `render_exports`, each with what it depends on.

    A copy of a package file (and its spreadsheet form) depends on that file (``file:datapackage/<name>``),
    the zip on every package file (``package``), the RIS on the works (``references``) and the SKOS files on
    the labels, the concepts, the works' keys and order (``reference-list``) and the works cited in the texts
    SKOS gives (the labels' definitions and the concepts' summaries). `zipped` holds the zip's members an
    earlier run compressed.
    """
    files = list(site.package) if files is None else files
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
                Page(
                    src_uri=f"{EXPORT_DIR}/{ZIP_NAME}",
                    content=render_zip(files, zipped),
                    source=f"{DATA_DIR}/",
                )
            ],
            # zlib compresses with the interpreter's lock released: the zip can be made beside the pages.
            beside=True,
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
                    source=site.bib_path,
                )
            ],
        )
    )

    # SKOS gives each label's definition and each concept's summary (a narrative citation keeps its words).
    skos_keys = {
        f"ref:{item}"
        for text in [
            *(t.definition for t in site.terms.values()),
            *(c.summary for c in site.concepts.values()),
        ]
        for item in site.texts.keys(text)
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
    entry, facts = bib.entry(key), bib.facts(key)
    work: dict[str, Any] = {"@type": _WORK_TYPES.get(facts.kind, "CreativeWork"), "name": facts.title_plain}
    authors = []
    for person in entry_persons(entry, "author") or entry_persons(entry, "editor"):
        family, given, suffix = name_parts(person)
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
    doi = entry_doi(entry)
    url = (entry.fields.get("url") or "").strip()
    if doi:
        work["url"] = f"https://doi.org/{doi}"
    elif url.startswith(("http://", "https://")):
        work["url"] = url
    return work


def site_reference_jsonld(site: Site, key: str) -> dict[str, Any]:
    """Return `reference_jsonld` for an entry of the site's bibliography, made once per site (a fresh copy)."""
    made = site.texts.memo(("jsonld", key), lambda: json.dumps(reference_jsonld(site.bibliography, key)))
    return json.loads(made)  # type: ignore[no-any-return]


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
            "description": describe_text(text, bib, site.texts),
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
            "description": describe_text(record.summary, bib, site.texts),
        }
        if record.source_url:
            data["sameAs"] = record.source_url
        if kind not in ("Thing", "Service"):
            end = record.end_year if record.end_year and record.end_year != record.start_year else None
            data["temporalCoverage"] = f"{record.start_year}/{end}" if end else str(record.start_year)
            data["spatialCoverage"] = {"@type": "Place", "name": record.country}
            citations = [
                site_reference_jsonld(site, key) for key in record_keys(record, site.texts) if key in bib
            ]
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
        data["description"] = describe_text(essay.description or essay.excerpt, site.bibliography, site.texts)
    if essay.categories:
        data["about"] = [_about(site, category, page_url, base) for category in essay.categories]
        data["keywords"] = list(essay.categories)
    citations = [site_reference_jsonld(site, key) for key in essay.keys if key in site.bibliography]
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
