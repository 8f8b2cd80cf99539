"""The open-data exports (data package, zip, RIS, SKOS) and the schema.org JSON-LD of pages."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from coguide.cite import Bibliography
from coguide.cite.ris import bibliography_entries, format_ris_record, render_ris
from coguide.errors import errors_only
from coguide.model import build_model
from coguide.pages import export
from coguide.pages.export import (
    describe_text,
    essay_jsonld,
    page_jsonld,
    record_jsonld,
    render_exports,
    resolve_base_url,
    spreadsheet_csv,
)
from coguide.source.load import load_project, package_files
from coguide.source.validate import parse_bibliography, validate_project

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://example.org/guide/"


def build(root: Path):
    sources = load_project(root)
    assert errors_only(validate_project(sources)) == []
    bib, _ = parse_bibliography(sources)
    return sources, build_model(sources, bib)


def exports(root: Path, base_url: str | None = "") -> dict[str, str | bytes]:
    _sources, site = build(root)
    return {page.src_uri: page.content for page in render_exports(site, base_url=base_url)}


@pytest.fixture
def narrower_project(project):
    """The base fixture plus a concept whose broader concept is "power"."""
    root = project()
    with (root / "datapackage" / "concepts.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "user-power,user power,,Power held by people who use services.,It is small [@needham2008].,power,,\n"
        )
    return root


# --------------------------------------------------------------------------- files


def test_exports_are_the_package_files_plus_zip_ris_and_skos(project):
    root = project()
    files = exports(root)
    resources = json.loads((root / "datapackage" / "datapackage.json").read_text())["resources"]
    package = {"datapackage.json", *(r["path"] for r in resources)}
    expected = {f"data/{name}" for name in package}
    expected |= {
        f"data/{name}"
        for name in ("coproduction-guide-data.zip", "references.ris", "skos.ttl", "skos.jsonld")
    }
    expected |= {f"data/spreadsheet/{name}" for name in package if name.endswith(".csv")}
    assert set(files) == expected
    for name in package:
        assert files[f"data/{name}"] == (root / "datapackage" / name).read_bytes(), name


def test_zip_holds_exactly_the_package_files_and_is_byte_identical_across_builds(project):
    root = project()
    first = exports(root)["data/coproduction-guide-data.zip"]
    # A later modification time must not change the archive: only the contents count.
    os.utime(root / "datapackage" / "terms.csv", (2_000_000_000, 2_000_000_000))
    second = exports(root)["data/coproduction-guide-data.zip"]
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert names == [name for name, _ in package_files(load_project(root))]
        for name in names:
            assert archive.read(name) == (root / "datapackage" / name).read_bytes()
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def zipfile_archive(files: list[tuple[str, bytes]]) -> bytes:
    """Return the zip Python's zipfile makes of `files` with the settings the exports used to give it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def test_the_zip_is_byte_for_byte_what_zipfile_makes_of_the_same_files(project):
    from coguide.pages.export import render_zip

    root = project()
    files = package_files(load_project(root))
    files += [
        ("données/été.csv", "é,ü\n".encode()),  # a name zipfile marks as UTF-8
        ("empty.txt", b""),
        (
            "large.csv",
            os.urandom(200_000) + b"a,b\n" * 50_000,
        ),  # beyond one deflate block, partly incompressible
    ]
    made = render_zip(files)
    assert made == zipfile_archive(files)
    with zipfile.ZipFile(io.BytesIO(made)) as archive:
        assert archive.testzip() is None
        assert {name: archive.read(name) for name in archive.namelist()} == dict(files)
        assert archive.getinfo("données/été.csv").flag_bits & 0x800


def test_kept_zip_members_are_compressed_again_only_when_their_content_changed(project, monkeypatch):
    import zlib

    from coguide.pages.export import ZipMembers, render_zip

    files = package_files(load_project(project()))
    members = ZipMembers()
    compressed: list[int] = []
    real = zlib.compressobj

    def counting(*args, **kwargs):
        compressed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(zlib, "compressobj", counting)
    first = render_zip(files, members)
    assert len(compressed) == len(files)
    compressed.clear()
    assert render_zip(files, members) == first and compressed == []
    name, data = files[0]
    changed = [(name, data + b"\n"), *files[1:]]
    again = render_zip(changed, members)
    assert len(compressed) == 1
    assert again == zipfile_archive(changed)
    # A member dropped and put back is compressed afresh, never taken from a run before the last.
    compressed.clear()
    render_zip(files[1:], members)
    assert compressed == []
    assert render_zip(files, members) == first and len(compressed) == 1


def test_every_export_is_deterministic(narrower_project):
    assert exports(narrower_project, BASE) == exports(narrower_project, BASE)


def test_a_resource_path_outside_the_package_is_refused(project):
    sources = load_project(project())
    sources.descriptor["resources"][0]["path"] = "../secrets.csv"
    with pytest.raises(ValueError, match="not a file in datapackage/"):
        package_files(sources)


# --------------------------------------------------------------------------- spreadsheet copies


@pytest.mark.parametrize(
    "formula",
    ['=HYPERLINK("https://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@(1+1)", "\t=1+1"],
)
def test_spreadsheet_copies_neutralise_formula_cells_and_keep_the_package_unchanged(project, formula):
    root = project()
    path = root / "datapackage" / "questions.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    summary = rows[0].index("summary")
    rows[1][summary] = formula
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    files = exports(root)
    assert files["data/questions.csv"] == path.read_bytes()
    copy = files["data/spreadsheet/questions.csv"]
    assert copy.startswith(b"\xef\xbb\xbf")
    published = list(csv.reader(io.StringIO(copy.decode("utf-8-sig"), newline="")))
    assert published[1][summary] == "'" + formula
    assert published[0] == rows[0]
    assert [r[:summary] for r in published[1:]] == [r[:summary] for r in rows[1:]]


def test_spreadsheet_copies_leave_ordinary_cells_alone():
    data = b'id,text\nclient,"A [@key] citation, and ""quotes"""\nx,3 - 2\n'
    rows = list(csv.reader(io.StringIO(spreadsheet_csv(data).decode("utf-8-sig"), newline="")))
    assert rows == [["id", "text"], ["client", 'A [@key] citation, and "quotes"'], ["x", "3 - 2"]]


# --------------------------------------------------------------------------- RIS


def ris_blocks(text: str) -> list[dict[str, list[str]]]:
    blocks: list[dict[str, list[str]]] = []
    for line in text.split("\r\n"):
        match = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        if not match:
            assert line == "", repr(line)
            continue
        tag, value = match.groups()
        if tag == "TY":
            blocks.append({})
        blocks[-1].setdefault(tag, []).append(value)
    return blocks


def test_ris_has_one_record_per_entry_with_its_fields(project):
    ris = exports(project())["data/references.ris"]
    assert isinstance(ris, str)
    blocks = ris_blocks(ris)
    assert [b["ID"] for b in blocks] == [["mclaughlin2009"], ["needham2008"], ["brudney1983"]]
    assert all(b["ER"] == [""] and list(b)[:: len(b) - 1] == ["TY", "ER"] for b in blocks)
    mclaughlin = blocks[0]
    assert mclaughlin["TY"] == ["JOUR"]
    assert mclaughlin["AU"] == ["McLaughlin, Hugh"]
    assert mclaughlin["PY"] == ["2009"]
    assert mclaughlin["TI"] == [
        "What’s in a Name: ‘Client’, ‘Patient’, ‘Customer’, ‘Consumer’, "
        "‘Expert by Experience’, ‘Service User’—What’s Next?"
    ]
    assert mclaughlin["JO"] == mclaughlin["T2"] == ["British Journal of Social Work"]
    assert (mclaughlin["VL"], mclaughlin["IS"]) == (["39"], ["6"])
    assert (mclaughlin["SP"], mclaughlin["EP"]) == (["1101"], ["1117"])
    assert mclaughlin["DO"] == ["10.1093/bjsw/bcm155"]
    assert blocks[2]["AU"] == ["Brudney, Jeffrey L.", "England, Robert E."]


def test_ris_decodes_latex_and_maps_types():
    bib, problems = Bibliography.parse(r"""
@book{ovretveit1993,
  author = {{\O}vretveit, John and van der Berg, Jan and others},
  title = {The {Climbi{\'e}} Report \ldots{} and After},
  publisher = {Open University Press},
  address = {Buckingham},
  year = {1993},
  url = {https://example.org/book}
}
@techreport{nef2008,
  author = {{New Economics Foundation}},
  title = {Co-production: A Manifesto},
  institution = {Social Work \& Society},
  date = {2008-03-05}
}
@misc{act2014,
  title = {Care Act 2014},
  type = {legislation},
  year = {2014}
}
""")
    assert problems == []
    records = {
        key: dict_of(format_ris_record(key, entry, bib.facts(key)))
        for key, entry in bibliography_entries(bib).items()
    }
    book = records["ovretveit1993"]
    assert book["TY"] == ["BOOK"]
    assert book["AU"] == ["Øvretveit, John", "van der Berg, Jan"]
    assert book["TI"] == ["The Climbié Report … and After"]
    assert (book["PB"], book["CY"], book["UR"]) == (
        ["Open University Press"],
        ["Buckingham"],
        ["https://example.org/book"],
    )
    report = records["nef2008"]
    assert report["TY"] == ["RPRT"]
    assert report["AU"] == ["New Economics Foundation"]
    assert report["PB"] == ["Social Work & Society"]
    assert (report["PY"], report["DA"]) == (["2008"], ["2008/03/05/"])
    assert records["act2014"]["TY"] == ["STAT"]
    assert len(ris_blocks(render_ris(bib))) == 3


def dict_of(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag, value in pairs:
        found.setdefault(tag, []).append(value)
    return found


# --------------------------------------------------------------------------- SKOS


def parse(files: dict[str, str | bytes]) -> tuple[Graph, Graph]:
    turtle = Graph().parse(data=files["data/skos.ttl"], format="turtle")
    with warnings.catch_warnings():
        # rdflib 7's JSON-LD parser goes through its own deprecated ConjunctiveGraph API.
        warnings.filterwarnings(
            "ignore", r".*(ConjunctiveGraph|default_context) is deprecated", DeprecationWarning
        )
        jsonld = Graph().parse(data=files["data/skos.jsonld"], format="json-ld")
    return turtle, jsonld


def test_skos_round_trips_in_turtle_and_json_ld(narrower_project):
    turtle, jsonld = parse(exports(narrower_project, BASE))
    assert turtle.isomorphic(jsonld)
    concepts = set(turtle.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) == 2 + 3  # two labels, three concepts
    assert len(set(turtle.subjects(RDF.type, SKOS.ConceptScheme))) == 2
    labels = {str(turtle.value(c, SKOS.prefLabel)) for c in concepts}
    assert labels == {"client", "service user", "co-production", "power", "user power"}
    assert all(turtle.value(c, SKOS.prefLabel).language == "en" for c in concepts)


def test_skos_links_and_labels(narrower_project):
    graph, _ = parse(exports(narrower_project, BASE))
    term, power = URIRef(BASE + "terms/client/"), URIRef(BASE + "concepts/power/")
    coproduction, user_power = URIRef(BASE + "concepts/co-production/"), URIRef(BASE + "concepts/user-power/")
    assert (user_power, SKOS.broader, power) in graph
    assert (power, SKOS.narrower, user_power) in graph
    assert (coproduction, SKOS.related, power) in graph
    assert (power, SKOS.related, coproduction) in graph
    assert (term, SKOS.related, power) in graph and (power, SKOS.related, term) in graph
    assert (term, SKOS.inScheme, URIRef(BASE + "terms/")) in graph
    assert (power, SKOS.inScheme, URIRef(BASE + "concepts/")) in graph
    assert (user_power, SKOS.topConceptOf, URIRef(BASE + "concepts/")) not in graph
    assert (coproduction, SKOS.altLabel, Literal("coproduction", lang="en")) in graph
    # Definitions are plain text: the citation is gone, the sentence is whole.
    definition = "A person helped by a professional who holds the expertise."
    assert str(graph.value(term, SKOS.definition)) == definition


@pytest.mark.parametrize("base_url", [BASE, ""])
def test_skos_written_directly_is_byte_for_byte_what_rdflib_writes(narrower_project, base_url):
    _, site = build(narrower_project)
    statements = export.skos_statements(site, base_url)
    assert export.write_skos(statements) == export.render_skos(export.build_skos_graph(site, base_url))


HOSTILE_TEXTS = [
    'a "quoted" label',
    "back\\slash \\",
    'ends with a quote"',
    "two\nlines",
    'three """ quotes\nand a line',
    "carriage\rreturn",
    "tab\there",
    "Ünïcödé – ‘curly’ 日本",
    "B upper",
    "a lower",
]


def test_skos_writer_matches_rdflib_on_awkward_text_and_hands_over_what_it_cannot_write():
    scheme, concept, other = "urn:x:concepts", "urn:x:concepts:c", "https://example.org/c/d?e=f#g"
    statements = {
        scheme: {
            str(RDF.type): {str(SKOS.ConceptScheme)},
            str(SKOS.prefLabel): {export.SkosText("Concepts")},
            str(SKOS.hasTopConcept): {concept, other},
        },
        concept: {
            str(RDF.type): {str(SKOS.Concept)},
            str(SKOS.altLabel): {export.SkosText(text) for text in HOSTILE_TEXTS},
            str(SKOS.definition): {export.SkosText(HOSTILE_TEXTS[4])},
            str(SKOS.related): {other},
        },
        other: {str(RDF.type): {str(SKOS.Concept)}, str(SKOS.prefLabel): {export.SkosText("d")}},
    }
    assert export._plainly_writable(statements)
    assert export.write_skos(statements) == export.render_skos(export.skos_graph(statements))
    # A URI in a namespace rdflib abbreviates (schema.org is bound by default) goes through rdflib.
    statements[concept][str(SKOS.related)] = {"https://schema.org/Person"}
    assert not export._plainly_writable(statements)
    turtle, _ = export.write_skos(statements)
    assert turtle == export.render_skos(export.skos_graph(statements))[0]
    assert "schema:Person" in turtle


def test_skos_uris_without_a_site_address_are_urns(project, monkeypatch):
    monkeypatch.delenv("COGUIDE_SITE_URL", raising=False)
    graph, _ = parse(exports(project(), None))
    expected = URIRef("urn:coguide:coproduction-labels-guide:terms:client")
    assert (expected, RDF.type, SKOS.Concept) in graph
    monkeypatch.setenv("COGUIDE_SITE_URL", "https://example.net/site")
    graph, _ = parse(exports(project(), None))
    assert (URIRef("https://example.net/site/terms/client/"), RDF.type, SKOS.Concept) in graph


def test_base_url_resolution(project, monkeypatch):
    monkeypatch.setenv("COGUIDE_SITE_URL", "https://example.org/a")
    assert resolve_base_url() == "https://example.org/a/"
    _, site = build(project())
    site_with_url = dataclasses.replace(
        site, info=dataclasses.replace(site.info, url="https://example.org/m/")
    )
    assert resolve_base_url(None, site_with_url) == "https://example.org/m/"
    assert resolve_base_url(None, site) == "https://example.org/a/"
    assert resolve_base_url("", site_with_url) is None
    assert resolve_base_url("https://example.org/b//") == "https://example.org/b/"
    assert resolve_base_url("") is None
    monkeypatch.setenv("COGUIDE_SITE_URL", "")
    assert resolve_base_url() is None


def test_describe_text_drops_parenthetical_citations_and_keeps_narrative_ones(project):
    _, site = build(project())
    text = (
        "*Clients* depend [@mclaughlin2009, p. 3]. @needham2008 [p. 224] disagrees; see [it](https://x.org)."
    )
    expected = "Clients depend. Needham (2008, p. 224) disagrees; see it."
    assert describe_text(text, site.bibliography) == expected


# --------------------------------------------------------------------------- schema.org JSON-LD


def test_record_jsonld_for_terms_concepts_and_cases(project):
    _, site = build(project())
    term = record_jsonld(site, site.terms["client"], "terms/client/", base_url="")
    assert term["@context"] == "https://schema.org"
    assert term["@type"] == "DefinedTerm"
    assert term["inDefinedTermSet"] == {"@type": "DefinedTermSet", "name": "Labels", "url": "../"}
    assert term["url"] == "./"
    assert term["isPartOf"] == {"@type": "WebSite", "name": site.info.name, "url": "../../"}
    assert term["alternateName"] == ["clients"]
    assert "@" not in term["description"]
    concept = record_jsonld(site, site.concepts["power"], "concepts/power/", base_url=BASE)
    assert (concept["@type"], concept["@id"]) == ("DefinedTerm", BASE + "concepts/power/")
    assert concept["inDefinedTermSet"]["url"] == BASE + "concepts/"
    case = record_jsonld(site, site.cases["care-act-2014"], "cases/care-act-2014/", base_url="")
    assert case["@type"] == "Legislation"
    assert case["sameAs"] == "https://www.legislation.gov.uk/ukpga/2014/23"
    assert [c["name"] for c in case["citation"]] == [
        "Realising the Potential of Co-production: Negotiating Improvements in Public Services"
    ]
    for data in (term, concept, case):
        assert json.loads(json.dumps(data)) == data
    with pytest.raises(TypeError):
        record_jsonld(site, site.arguments["shares-power"], "debates/", base_url="")


def test_essay_jsonld_is_a_scholarly_article_citing_its_works(project):
    _, site = build(project())
    essay = site.essays[0]
    data = essay_jsonld(site, essay, base_url=BASE, authors={"editors": "The editors"})
    assert data["@type"] == "ScholarlyArticle"
    assert data["headline"] == "Does a name change a relationship?"
    assert data["datePublished"] == "2026-01-05"
    assert data["author"] == [{"@type": "Person", "name": "The editors"}]
    assert data["url"] == BASE + "blog/2026/01/05/a-fixture-essay/"
    assert data["isPartOf"]["url"] == BASE
    assert data["about"] == [{"@type": "Thing", "name": "Labels"}]
    citations = {c["name"]: c for c in data["citation"]}
    assert len(citations) == 3
    assert citations["Toward a Definition of the Coproduction Concept"] == {
        "@type": "ScholarlyArticle",
        "name": "Toward a Definition of the Coproduction Concept",
        "author": [
            {
                "@type": "Person",
                "name": "Jeffrey L. Brudney",
                "familyName": "Brudney",
                "givenName": "Jeffrey L.",
            },
            {
                "@type": "Person",
                "name": "Robert E. England",
                "familyName": "England",
                "givenName": "Robert E.",
            },
        ],
        "datePublished": "1983",
        "url": "https://doi.org/10.2307/975300",
    }
    assert json.loads(json.dumps(data)) == data


def test_page_jsonld_finds_records_and_essays_by_source_path(project):
    _, site = build(project())
    assert page_jsonld(site, "terms/client.md", base_url="")["@type"] == "DefinedTerm"
    assert page_jsonld(site, "cases/care-act-2014.md", base_url="")["@type"] == "Legislation"
    assert page_jsonld(site, "blog/posts/a-fixture-essay.md", base_url="")["@type"] == "ScholarlyArticle"
    assert page_jsonld(site, "index.md", base_url="") is None


def render_main(meta: dict[str, object]) -> str:
    env = Environment(
        loader=ChoiceLoader(
            [
                DictLoader({"base.html": "<head>{% block extrahead %}<meta name=base>{% endblock %}</head>"}),
                FileSystemLoader(str(ROOT / "docs" / "overrides")),
            ]
        )
    )
    env.filters["url"] = lambda value: value  # MkDocs' filter makes a site path relative to the page
    config = SimpleNamespace(site_name="Client, patient, customer, citizen?")
    return env.get_template("main.html").render(page=SimpleNamespace(meta=meta), config=config)


def test_main_template_embeds_json_ld_without_a_script_breakout():
    hostile = {"@type": "DefinedTerm", "name": "</script><script>alert(1)</script> & <b>"}
    html = render_main({"jsonld": hostile})
    assert "<meta name=base>" in html
    assert html.count("</script>") == 1
    assert "<b>" not in html and "&" not in html.replace('type="application/ld+json"', "")
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert script is not None
    assert json.loads(script.group(1)) == hostile


def test_main_template_escapes_citation_meta_tags_and_advertises_the_feed():
    hostile = [("citation_title", '"><script>alert(1)</script> & <b>'), ("citation_author", "O'Brien")]
    html = render_main({"citation_meta": hostile})
    assert "<script" not in html and "<b>" not in html
    assert (
        '<meta name="citation_title" content="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;">'
        in html
    )
    assert '<meta name="citation_author" content="O&#39;Brien">' in html
    assert '<link rel="alternate" type="application/atom+xml"' in html and 'href="feed.xml"' in html


def test_main_template_adds_nothing_without_json_ld():
    assert "<script" not in render_main({})
    assert "<script" not in render_main({"jsonld": "a string is not a JSON-LD object"})


def test_exports_are_a_function_of_the_model_with_no_cache_between_builds(project):
    root = project()
    _sources, site = build(root)
    first = render_exports(site, base_url=BASE)
    assert render_exports(site, base_url=BASE) == first
    assert render_exports(site, base_url="") != first  # another address, other URIs
    terms = root / "datapackage" / "terms.csv"
    terms.write_text(terms.read_text().replace("A person who uses a service.", "Someone who uses a service."))
    _sources, site = build(root)
    changed = {p.src_uri: p.content for p in render_exports(site, base_url=BASE)}
    assert "Someone who uses a service." in changed["data/skos.ttl"]
    import coguide.pages.export as export

    assert not hasattr(export, "_EXPORTS")
