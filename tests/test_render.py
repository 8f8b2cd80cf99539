from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from coguide.links import url_for
from coguide.model import build_model
from coguide.pages.render import (
    link_uncited_references,
    make_glossary,
    md_escape,
    plain_text,
    reference_downloads,
    reference_items,
    render_document,
    render_site,
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
    out = glossary.link_first_mentions(text, lambda entry: entry.src_uri).text
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


def test_each_cited_key_is_described_once_per_page(site):
    from coguide.pages.render import cite_previews

    bib = site.bibliography
    text = "[@needham2008] and [@needham2008, p. 3]; [@brudney1983]."
    rendered = bib.render_text(text, "html", lambda key: f"../bibliography/#{key}")[0]
    # Without a reference list, the page gets one hidden, search-excluded preview per key, at its end.
    page = cite_previews(rendered, bib)
    assert page.startswith(rendered)
    hidden = page[len(rendered) :]
    assert hidden.strip().startswith(
        '<div class="cite-previews" hidden data-search-exclude="true" markdown="0">'
    )
    assert re.findall(r'id="([^"]+)"', hidden) == ["cite-needham2008", "cite-brudney1983"]
    # Each citation names its key by its link's fragment alone; the browser finds the element from it.
    assert re.findall(r'<a class="cite" href="[^"]*#([^"]+)">', rendered) == [
        "needham2008",
        "needham2008",
        "brudney1983",
    ]
    assert "aria-describedby" not in rendered
    assert f'<span id="cite-brudney1983">{bib.preview("brudney1983")}</span>' in hidden
    assert "<a " not in hidden
    # A key the page's reference list already holds is not repeated.
    listed = "\n".join(reference_items(["needham2008"], bib))
    page = cite_previews(f"{rendered}\n{listed}", bib)
    assert page.count('id="cite-needham2008"') == 1
    assert page.count('id="cite-brudney1983"') == 1
    # A page that cites nothing is unchanged.
    assert cite_previews("No citations.", bib) == "No citations."


def test_citations_in_discussion_questions_count_as_the_records_sources(site):
    import dataclasses

    from coguide.model import record_keys

    client = dataclasses.replace(site.terms["client"], questions=("Is [@needham2008, p. 224] right?",))
    assert "needham2008" in record_keys(client)


def test_page_meta_looks_pages_up_in_one_index_per_site(site):
    from coguide.pages.tree import page_meta, page_owners

    owners = page_owners(site)
    records = [r for resource in ("terms", "concepts", "cases") for r in getattr(site, resource).values()]
    assert set(owners) == {r.src_uri for r in records} | {e.src_uri for e in site.essays}
    client = page_meta(site, "terms/client.md", owners)
    assert client == page_meta(site, "terms/client.md")
    assert client["jsonld"]["@type"] == "DefinedTerm"
    assert client["edit_line"] == site.terms["client"].line
    assert ["citation_title", site.terms["client"].title] in client["citation_meta"]
    essay = site.essays[0]
    meta = page_meta(site, essay.src_uri, owners)
    assert meta["jsonld"]["@type"] == "ScholarlyArticle" and "edit_line" not in meta
    assert ["citation_title", essay.title] in meta["citation_meta"]
    assert page_meta(site, "about.md", owners) == {}


def test_glossary_links_never_fall_inside_a_citation_and_the_citations_move_with_the_text(site):
    from coguide.cite import find_citations

    glossary = make_glossary(site)
    # A citation whose prefix runs onto a second line: the line-by-line protection cannot see it whole.
    text = "Power matters [on\nclients, see @mclaughlin2009, p. 5] to clients.\n"
    citations = find_citations(text)
    linked = glossary.link_first_mentions(text, lambda entry: entry.src_uri, citations)
    assert "[on\nclients, see @mclaughlin2009, p. 5]" in linked.text
    assert "[clients](terms/client.md" in linked.text.split("]", 1)[1]
    assert linked.text.startswith("[Power](concepts/power.md")
    assert linked.citations(citations) == tuple(find_citations(linked.text))


def test_hand_written_pages_are_rendered_from_the_citations_the_model_parsed(project, monkeypatch):
    import coguide.cite.citations as citations_module
    import coguide.model as model_module
    from coguide.build import generate
    from coguide.pages.tree import render_written_page

    root = project(full=True)
    result = generate(root)
    assert result.ok
    site = result.site

    def refuse(text):
        raise AssertionError(f"parsed again: {text[:60]!r}")

    monkeypatch.setattr(citations_module, "find_citations", refuse)
    monkeypatch.setattr(model_module, "find_citations", refuse)
    glossary = make_glossary(site)
    pages = [render_written_page(site, doc, glossary) for doc in site.documents]
    assert any(doc.is_post for doc in site.documents)
    cited = [
        (doc, page) for doc, page in zip(site.documents, pages, strict=True) if site.texts.cites(doc.body)
    ]
    assert [doc.is_post for doc, _ in cited] == [True]  # the fixture's essay cites works
    for doc, page in cited:
        items = sum(len(c.items) for c in site.texts.cites(doc.body))
        assert page.content.count('<a class="cite"') == items, doc.src_uri


def test_record_pages_keep_citation_markup_lean(site):
    """A record page's citations, references and Cite this page stay lean (issue 15's page size).

    A citation is its link and nothing more; the reference list links to the bibliography once (cite.js links
    each reference to its entry from there, and only a reference no citation links to has its arrow written
    out); the page's APA reference is written once in the box (its Copy button copies it) and once for print.
    The browser side (descriptions, previews, each reference's link) is checked in test_browser_citing.py.
    """
    pages = {p.src_uri: p.content for p in render_site(site)}
    records = [r for resource in ("terms", "concepts", "cases") for r in getattr(site, resource).values()]
    citations = 0
    for record in records:
        content = pages[record.src_uri]
        for markup in (
            "cite-item",
            "data-key=",
            "aria-describedby=",
            '<textarea id="cite-apa"',
        ):
            assert markup not in content, f"{record.src_uri} holds {markup!r} again"
        links = re.findall(r'<a class="cite"[^>]*>', content)
        citations += len(links)
        expected = url_for(record.url, "bibliography/")
        for link in links:
            assert re.fullmatch(rf'<a class="cite" href="{re.escape(expected)}#[^"]+">', link), link
        cited = {link.partition("#")[2].removesuffix('">') for link in links}
        # Every cited work is described once on the page: by its reference (cite-KEY), which cite.js finds.
        for key in cited:
            assert content.count(f'id="cite-{key}"') == 1, f"{record.src_uri}: cite-{key}"
        # The list links to the bibliography once; a reference no citation links to gets its own arrow there,
        # the others get theirs in the browser (cite.js), so every listed work is linked without scripts too.
        if 'class="reference-list"' in content:
            bibliography = f'<a class="bibliography-link" href="{url_for(record.url, "bibliography/")}">'
            assert content.count(bibliography) == 1, f"{record.src_uri} has no link to the bibliography"
            listed = re.findall(r'<li><span id="cite-([^"]+)">', content)
            arrows = re.findall(r'<a class="ref-backlink" href="[^"]*#([^"]+)"', content)
            assert set(arrows) == set(listed) - cited, record.src_uri
        box = content[content.index('<details class="cite-this-page"') :]
        # The Copy buttons work only with coguide.js, which makes them (test_browser checks they copy).
        assert box.count('class="cite-apa"') == 1 and "<button" not in box
        assert content.count("<strong>Cite as:</strong>") == 1
    assert citations > 5, "the fixture's record pages cite too little to check"


def test_a_listed_work_no_citation_links_to_gets_its_own_link_to_the_bibliography(site):
    bib = site.bibliography
    keys = ["needham2008", "brudney1983"]
    rendered = bib.render_text("[@needham2008]", "html", lambda key: f"../../bibliography/#{key}")[0]
    items = "\n".join(f"<li>{item}</li>" for item in reference_items(keys, bib))
    downloads = reference_downloads(keys, bib, "terms/client/")
    assert '<a class="bibliography-link" href="../../bibliography/">bibliography</a>' in downloads
    page = f'{rendered}\n\n<ol class="reference-list">\n{items}\n</ol>\n\n{downloads}\n'
    linked = link_uncited_references(page)
    # brudney1983 is listed but cited nowhere on the page: without scripts, only its arrow leads to its entry.
    assert re.findall(r'<a class="ref-backlink" href="([^"]+)"', linked) == [
        "../../bibliography/#brudney1983"
    ]
    assert (
        linked.replace(
            ' <a class="ref-backlink" href="../../bibliography/#brudney1983" aria-label="In the bibliography" '
            'title="In the bibliography">↗</a>',
            "",
        )
        == page
    )
    assert link_uncited_references(rendered) == rendered


def test_the_bibliography_reaches_the_engine_as_one_raw_block_per_section(site):
    # Python-Markdown copies the rest of the page at the end of every raw HTML block it meets, so a block per
    # entry makes a large bibliography's conversion grow with the square of its entries.
    import markdown

    body = {p.src_uri: p for p in render_site(site)}["bibliography/index.md"].content.split("\n---\n", 1)[1]
    sections = body.count("\n## Cited works\n") + body.count("\n## Further reading\n")
    entries = body.count('<div class="bib-entry"')
    md = markdown.Markdown(extensions=["md_in_html", "attr_list", "toc"])
    md.convert(body)
    holding = [b.count('<div class="bib-entry"') for b in md.htmlStash.rawHtmlBlocks if "bib-entry" in str(b)]
    assert entries >= 3 and sections >= 1
    assert len(holding) == sections and sum(holding) == entries, (holding, sections, entries)
