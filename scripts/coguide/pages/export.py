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
import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
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


def render_zip(files: Iterable[tuple[str, bytes]]) -> bytes:
    """Return a zip of `files` that is byte-identical whenever the files are (fixed dates, sorted names)."""
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


def build_skos_graph(site: Site, base_url: str | None = None) -> Graph:
    """Return the labels and concepts as two SKOS concept schemes.

    Args:
        site: The site model.
        base_url: The site's address (see the module docstring); None: see `resolve_base_url`.
    """
    base = resolve_base_url(base_url, site)
    graph = Graph()
    graph.bind("skos", SKOS)
    graph.bind("dcterms", DCTERMS)
    licence = URIRef(_licence(site))
    bib = site.bibliography
    uri = {
        (r.resource, r.id): URIRef(record_uri(site, r, base))
        for r in [*site.terms.values(), *site.concepts.values()]
    }
    for resource in ("terms", "concepts"):
        scheme = URIRef(section_uri(site, resource, base))
        graph.add((scheme, RDF.type, SKOS.ConceptScheme))
        graph.add((scheme, SKOS.prefLabel, Literal(_SCHEME_TITLES[resource], lang="en")))
        graph.add((scheme, DCTERMS.title, Literal(_SCHEME_TITLES[resource], lang="en")))
        graph.add((scheme, DCTERMS.license, licence))
        if base:
            graph.add((scheme, DCTERMS.source, URIRef(f"{base}{EXPORT_DIR}/{DESCRIPTOR_NAME}")))
    for term in site.terms.values():
        node = uri["terms", term.id]
        _add_concept(
            graph,
            node,
            URIRef(section_uri(site, "terms", base)),
            term.label,
            term.also_known_as,
            describe_text(term.definition, bib, site.texts),
            top=True,
        )
        for concept in term.concepts:
            graph.add((node, SKOS.related, uri["concepts", concept]))
            graph.add((uri["concepts", concept], SKOS.related, node))
    for concept in site.concepts.values():
        node = uri["concepts", concept.id]
        _add_concept(
            graph,
            node,
            URIRef(section_uri(site, "concepts", base)),
            concept.name,
            concept.also_known_as,
            describe_text(concept.summary, bib, site.texts),
            top=concept.broader is None,
        )
        if concept.broader:
            graph.add((node, SKOS.broader, uri["concepts", concept.broader]))
        for narrower in concept.narrower:
            graph.add((node, SKOS.narrower, uri["concepts", narrower]))
        for related in concept.related:
            graph.add((node, SKOS.related, uri["concepts", related]))
        for term in concept.terms:
            graph.add((node, SKOS.related, uri["terms", term]))
    return graph


def _add_concept(
    graph: Graph, node: URIRef, scheme: URIRef, label: str, also: Iterable[str], definition: str, *, top: bool
) -> None:
    graph.add((node, RDF.type, SKOS.Concept))
    graph.add((node, SKOS.inScheme, scheme))
    graph.add((node, SKOS.prefLabel, Literal(label, lang="en")))
    for alt in also:
        if alt != label:
            graph.add((node, SKOS.altLabel, Literal(alt, lang="en")))
    graph.add((node, SKOS.definition, Literal(definition, lang="en")))
    if top:
        graph.add((node, SKOS.topConceptOf, scheme))
        graph.add((scheme, SKOS.hasTopConcept, node))


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
) -> list[PageJob]:
    """Return the jobs that make the data files of `render_exports`, each with what it depends on.

    A copy of a package file (and its spreadsheet form) depends on that file (``file:datapackage/<name>``),
    the zip on every package file (``package``), the RIS on the works (``references``) and the SKOS files on
    the labels, the concepts and the works they cite (``reference-list``: the works' keys and order).
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
                    source=site.bib_path,
                )
            ],
        )
    )

    skos_keys = {
        f"ref:{key}"
        for record in [*site.terms.values(), *site.concepts.values()]
        for key in record_keys(record)
    }

    def skos() -> list[Page]:
        turtle, jsonld = render_skos(build_skos_graph(site, base_url))
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
