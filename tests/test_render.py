from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from coguide.model import build_model
from coguide.pages.render import (
    make_glossary,
    md_escape,
    plain_text,
    render_document,
    render_site,
    unique_tooltip_ids,
    url_for,
)
from coguide.source.load import load_project
from coguide.source.validate import parse_bibliography

GOLDEN = Path(__file__).resolve().parent / "golden" / "render"
REGEN = os.environ.get("COGUIDE_REGEN_GOLDEN") == "1"
# Pages whose golden copy is kept: one of each template.
PAGES = [
    "terms/client.md",
    "concepts/co-production.md",
    "cases/care-act-2014.md",
    "terms/index.md",
    "concepts/index.md",
    "cases/index.md",
    "debates/index.md",
    "bibliography/index.md",
    "glossary/index.md",
    "timeline/index.md",
    "figures/index.md",
    "terms/compare.md",
    "index.md",
    "feed.xml",
]


@pytest.fixture
def site(project):
    sources = load_project(project())
    bib, _ = parse_bibliography(sources)
    return build_model(sources, bib)


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), f"golden/{name}", "rendered"
            )
        )
        pytest.fail(f"{name} differs from its golden copy (COGUIDE_REGEN_GOLDEN=1 to update):\n{diff}")


@pytest.mark.parametrize("name", PAGES)
def test_generated_page_matches_golden(site, name):
    pages = {p.src_uri: p for p in render_site(site)}
    assert_golden(name, pages[name].content)


def test_every_record_gets_a_page(site):
    names = {p.src_uri for p in render_site(site)}
    for resource in ("terms", "concepts", "cases"):
        for record in getattr(site, resource).values():
            assert record.src_uri in names


def test_generated_pages_say_do_not_edit(site):
    for page in render_site(site):
        if page.src_uri.endswith((".md", ".xml")):
            assert "generated; do not edit" in page.content, page.src_uri


def test_essay_gets_linked_citations_references_and_cite_box(site):
    essay = site.essays[0]
    markdown = "A client is not a service user, or so @mclaughlin2009 [p. 1114] argues.\n"
    out = render_document(
        markdown,
        "blog/2026/01/05/a-fixture-essay/",
        site,
        src_uri=essay.src_uri,
        glossary=make_glossary(site),
    )
    assert "[client](../../terms/client.md" in out  # first mention links to the label's page
    assert out.count("(../../terms/client.md") == 1
    assert '<a class="cite" href="../../../../../bibliography/#mclaughlin2009"' in out
    assert "## References" in out and "British Journal of Social Work" in out
    assert 'class="cite-this-page"' in out


def test_glossary_leaves_headings_code_and_citations_alone(site):
    glossary = make_glossary(site)
    text = "# Client\n\n`client` and [@mclaughlin2009] then clients and power.\n"
    out = glossary.link_first_mentions(text, lambda entry: entry.src_uri)
    assert out.startswith("# Client\n\n`client` and [@mclaughlin2009] then [clients](terms/client.md")
    assert "[power](concepts/power.md" in out


def test_links_resolve_both_ways(site):
    client = site.terms["client"]
    assert client.concepts == ("power",)
    assert site.concepts["power"].terms == ("client",)
    assert site.concepts["power"].related == ("co-production",)
    assert site.concepts["co-production"].related == ("power",)
    assert site.cases["care-act-2014"].terms == ("service-user",)
    assert site.terms["service-user"].cases == ("care-act-2014",)
    assert {c.kind for c in site.cited_by["mclaughlin2009"]} == {"Essay", "Label", "Concept"}


def test_url_for_and_escaping():
    assert url_for("terms/client/", "bibliography/#k") == "../../bibliography/#k"
    assert url_for("", "terms/client/") == "terms/client/"
    assert url_for("blog/2026/01/05/x/", "concepts/power/") == "../../../../../concepts/power/"
    assert md_escape("[x](javascript:alert(1)) <b>") == "\\[x\\]\\(javascript:alert\\(1\\)\\) &lt;b&gt;"
    assert plain_text("A claim [@k, p. 3]. More *here*.") == "A claim. More here."


def test_tooltip_ids_are_unique_across_texts():
    one = '<a aria-describedby="cite-k-1">x</a><span id="cite-k-1"></span>'
    out = unique_tooltip_ids(one + one)
    assert out.count('id="cite-k-1"') == 1 and out.count('id="cite-k-2"') == 1
    assert 'aria-describedby="cite-k-2"' in out


def test_citations_in_discussion_questions_count_as_the_records_sources(site):
    import dataclasses

    from coguide.model import record_keys

    client = dataclasses.replace(site.terms["client"], questions=("Is [@needham2008, p. 224] right?",))
    assert "needham2008" in record_keys(client)
