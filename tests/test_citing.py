"""Citing the guide's own pages, linking every citation, the site's address and the glossary's links."""

from __future__ import annotations

import re

import pytest

from coguide.cite import Bibliography
from coguide.cite.ris import format_ris_record
from coguide.cli import REQUIRE_SITE_URL, build_site
from coguide.links import resolve_root_links, root_link
from coguide.model import SiteInfo, build_model
from coguide.pages.pagecite import cite_page, cite_this_page, latex_escape, page_bibtex, page_fields
from coguide.pages.render import (
    citation_meta,
    make_glossary,
    proponent_citation,
    record_page_keys,
    render_document,
    render_site,
)
from coguide.source.load import load_project
from coguide.source.validate import parse_bibliography

BASE = "https://owner.github.io/repo/"
GUIDE = "Client, patient, customer, citizen?"
EDITORS = "The guide's editors"


@pytest.fixture
def site(project):
    sources = load_project(project())
    bib, _ = parse_bibliography(sources)
    info = SiteInfo(
        url=BASE,
        updated={"datapackage/terms.csv": "2026-11-29", "docs/blog/posts/first.md": "2026-12-02"},
        authors={"editors": EDITORS},
    )
    return build_model(sources, bib, info)


# --- One formatter: the page described as BibLaTeX, formatted by the guide's APA style and RIS writer --------


def test_a_record_is_cited_as_an_entry_in_the_guide():
    cite = cite_page(
        title="Client", url="terms/client/", base=BASE, container=GUIDE, publisher=EDITORS, date="2026-11-29"
    )
    url = BASE + "terms/client/"
    assert cite.apa_text == f"Client. (2026). In {GUIDE} The guide’s editors. {url}"
    assert cite.apa_html == (
        f'Client. (2026). In <em>{GUIDE}</em> The guide’s editors. <a href="{url}">{url}</a>'
    )
    assert cite.bibtex.startswith("@inreference{coguide-terms-client,")
    assert "options = {useauthor=false}" in cite.bibtex and "year = {2026}" in cite.bibtex
    ris = cite.ris.splitlines()
    assert ris[0] == "TY  - CHAP" and ris[-1] == "ER  - "
    assert {
        "TI  - Client",
        f"T2  - {GUIDE}",
        "PB  - The guide’s editors",
        f"UR  - {url}",
        "PY  - 2026",
    } <= set(ris)
    assert not any(line.startswith("AU") for line in ris), "an entry in a reference work has no author"


def test_an_essay_is_cited_by_its_authors_and_publication_date():
    cite = cite_page(
        title="Who defines need?",
        url="blog/2026/10/12/who-defines-need/",
        base=BASE,
        container=GUIDE,
        publisher=EDITORS,
        date="2026-10-12",
        authors=(EDITORS,),
    )
    url = BASE + "blog/2026/10/12/who-defines-need/"
    assert cite.apa_text == f"The guide’s editors. (2026, October 12). Who defines need? {GUIDE} {url}"
    assert f"<em>{GUIDE}</em>" in cite.apa_html
    assert "author = {{The guide's editors}}" in cite.bibtex and "date = {2026-10-12}" in cite.bibtex
    ris = cite.ris.splitlines()
    assert ris[0] == "TY  - BLOG"
    assert {"AU  - The guide’s editors", "DA  - 2026/10/12/", f"T2  - {GUIDE}", f"UR  - {url}"} <= set(ris)


def test_special_characters_in_a_title_survive_every_form():
    title = "Power & control: 100% of R_D #1, $5 \\ ~"
    cite = cite_page(title=title, url="cases/x/", base=BASE, container=GUIDE, publisher=EDITORS, date="")
    assert cite.apa_text.startswith(f"{title}. (n.d.). In {GUIDE}")
    assert cite.apa_html.startswith("Power &amp; control: 100% of R_D #1, $5 \\ ~.")
    assert f"TI  - {title}" in cite.ris.splitlines()
    bib, problems = Bibliography.parse(cite.bibtex)
    assert problems == [] and cite.key in bib


def test_braces_in_a_title_become_parentheses_rather_than_break_the_entry():
    cite = cite_page(title="A {b} c", url="x/", base=BASE, container=GUIDE, publisher=EDITORS, date="")
    assert cite.apa_text.startswith("A (b) c. (n.d.).")


def test_latex_escape_leaves_no_active_character():
    escaped = latex_escape("a&b%c$d#e_f{g}h\\i~j^k")
    assert escaped == r"a\&b\%c\$d\#e\_f(g)h\textbackslash{}i\textasciitilde{}j\^{}k"


def test_without_a_site_address_the_citation_says_so_and_gives_a_path():
    cite = cite_page(title="Client", url="terms/client/", base="", container=GUIDE, publisher="", date="")
    assert cite.url == "/terms/client/" and not cite.absolute
    assert cite.apa_text == f"Client. (n.d.). In {GUIDE} /terms/client/"
    fields = page_fields(title="t", url="/x/", container=GUIDE, publisher="", date="", authors=())
    assert "publisher" not in page_bibtex("k", fields, ())


def test_cite_this_page_box_shows_the_same_citation_escaped(site):
    box = str(cite_this_page(site, title="Client", url="terms/client/", source="datapackage/terms.csv"))
    assert "Client. (2026). In <em>Client, patient, customer, citizen?</em> The guide’s editors." in box
    assert "publisher = {The guide&#x27;s editors}" in box, "the BibTeX is HTML-escaped in its text box"
    assert 'Last updated: <time datetime="2026-11-29">29 November 2026</time>' in box
    assert "cite-warning" not in box


def test_essays_get_a_byline_under_the_title_and_a_cite_box(site):
    essay = site.essays[0]
    page_url = "blog/x/"
    out = render_document(f"# {essay.title}\n\nText.\n", page_url, site, src_uri=essay.src_uri)
    title_at = out.index(f"# {essay.title}")
    byline_at = out.index('<p class="page-byline">By The guide&#x27;s editors · Published')
    assert title_at < byline_at < out.index("Text.") < out.index('<details class="cite-this-page"')
    assert f"({essay.date.year}, {essay.date:%B} {essay.date.day})" in out
    assert '<p class="print-only page-cite-as" data-search-exclude><strong>Cite as:</strong>' in out


def test_citation_meta_tags_for_an_essay_and_a_record(site):
    essay = site.essays[0]
    tags = dict(citation_meta(site, essay.src_uri))
    assert tags["citation_title"] == essay.title
    assert tags["citation_author"] == EDITORS
    assert tags["citation_publication_date"] == essay.date.isoformat().replace("-", "/")
    assert tags["citation_publisher"] == EDITORS
    assert tags["citation_public_url"].startswith(BASE + "blog/")
    record = dict(citation_meta(site, "terms/client.md"))
    assert record["citation_title"] == "Client" and record["citation_inbook_title"] == GUIDE
    assert record["citation_publication_date"] == "2026"
    assert record["citation_public_url"] == BASE + "terms/client/"
    assert citation_meta(site, "about.md") == []


# --- Links that resolve under any base path ------------------------------------------------------------------


def test_root_links_become_relative_to_each_page_that_shows_them():
    fragment = (
        f'<a href="{root_link("bibliography/#needham2008")}">x</a><img src="{root_link("assets/a.svg")}">'
    )
    assert (
        resolve_root_links(fragment, "blog/")
        == '<a href="../bibliography/#needham2008">x</a><img src="../assets/a.svg">'
    )
    assert resolve_root_links(fragment, "blog/2026/01/19/x/").startswith(
        '<a href="../../../../../bibliography/'
    )
    assert (
        resolve_root_links(fragment, "")
        == '<a href="bibliography/#needham2008">x</a><img src="assets/a.svg">'
    )


def test_essay_links_are_written_from_the_root_for_excerpts(site):
    out = render_document("# T\n\nAs [@needham2008] says.\n", "blog/x/", site, root_links=True)
    assert f'href="{root_link("bibliography/#needham2008")}"' in out
    assert "../" not in out


# --- Every citation linked, every reference list complete ----------------------------------------------------


def test_in_the_debates_cites_the_proponents_once_and_linked(site):
    argument = site.arguments["shares-power"]
    assert proponent_citation(site, argument) == "[@needham2008]"
    pages = {p.src_uri: p.content for p in render_site(site)}
    record = next(r for r in [*site.terms.values(), *site.concepts.values()] if "shares-power" in r.arguments)
    content = pages[record.src_uri]
    section = content[content.index("## In the debates") :]
    assert "(Needham (2008))" not in section
    assert re.search(r'\(<a class="cite" href="[./]*bibliography/#needham2008">', section)
    assert "needham2008" in record_page_keys(site, record)


def test_every_citation_on_generated_pages_is_linked(site):
    pages = {p.src_uri: p.content for p in render_site(site)}
    linked = []
    for uri in ("concepts/index.md", "terms/index.md", "terms/client.md", "concepts/co-production.md"):
        assert "[@" not in pages[uri], f"{uri} shows a citation in Pandoc form"
        linked += re.findall(r'<a class="cite" href="[./]*bibliography/#([^"]+)">', pages[uri])
    assert linked, "no linked citation found"
    assert all(key in site.bibliography for key in linked)


def test_a_record_reference_list_lists_every_work_its_page_cites(site):
    pages = {p.src_uri: p.content for p in render_site(site)}
    for record in [*site.terms.values(), *site.concepts.values(), *site.cases.values()]:
        content = pages[record.src_uri]
        cited = set(re.findall(r'<a class="cite" href="[^"]*#([^"]+)"', content))
        references = re.search(r'<ol class="reference-list">.*?</ol>', content, re.DOTALL)
        listed = (
            set(re.findall(r'<li><span id="cite-([^"]+)">', references.group(0))) if references else set()
        )
        assert cited <= listed, f"{record.src_uri} cites {sorted(cited - listed)} without listing them"
        if cited:
            assert f"references/{record.resource}-{record.id}.bib" in content


def test_reference_lists_are_published_as_bibtex_and_ris(site):
    pages = {p.src_uri: p.content for p in render_site(site)}
    bib = pages["references/terms-client.bib"]
    ris = pages["references/terms-client.ris"]
    assert bib.startswith("@") and "mclaughlin2009" in bib
    assert "TY  - " in ris and "ID  - mclaughlin2009" in ris


# --- The site's address --------------------------------------------------------------------------------------


def test_build_fails_without_a_site_url_when_one_is_required(project, monkeypatch, capsys):
    root = project(full=True)
    monkeypatch.delenv("COGUIDE_SITE_URL", raising=False)
    monkeypatch.setenv(REQUIRE_SITE_URL, "true")
    assert build_site(root, root / "site", verbose=False) == 1
    err = capsys.readouterr().err
    assert "error: no site URL is set" in err and "COGUIDE_SITE_URL=https://" in err
    assert not (root / "site").exists()


def test_build_warns_loudly_without_a_site_url(project, monkeypatch, capsys):
    root = project(full=True)
    monkeypatch.delenv("COGUIDE_SITE_URL", raising=False)
    monkeypatch.delenv(REQUIRE_SITE_URL, raising=False)
    assert build_site(root, root / "site", verbose=False) == 0
    err = capsys.readouterr().err
    assert "WARNING: no site URL is set" in err and "bare paths" in err


def test_the_deploy_workflow_requires_the_site_url():
    from conftest import ROOT

    workflow = (ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    build_job = workflow.split("\n  deploy:")[0]
    assert f'{REQUIRE_SITE_URL}: "true"' in build_job
    assert "COGUIDE_SITE_URL: ${{ steps.pages.outputs.base_url }}/" in build_job


# --- Glossary links ------------------------------------------------------------------------------------------


def test_glossary_links_skip_everyday_words_and_the_wrong_sense(site):
    forms = {form for entry in make_glossary(site).entries for form in entry.forms}
    for word in ("user", "users", "need", "needs", "choice", "choices", "control", "controls"):
        assert word not in forms, word


def test_every_label_and_concept_is_on_the_glossary_page(site):
    pages = {p.src_uri: p.content for p in render_site(site)}
    glossary = pages["glossary/index.md"]
    for record in [*site.terms.values(), *site.concepts.values()]:
        assert f'href="../{record.url}">{record.title}</a>' in glossary.replace("&#x27;", "'"), record.id


def test_page_citation_dates_are_iso():
    # A malformed date would print a wrong citation: it is refused instead.
    with pytest.raises(ValueError):
        cite_page(title="x", url="x/", base=BASE, container=GUIDE, publisher=EDITORS, date="29/11/2026")


@pytest.mark.parametrize(
    "title",
    ["Plain", "R&D 100% {x} ~ ^ \\ _ # $", "Two  spaces\nand a line", "*Stars* and [a link](javascript:x)"],
)
@pytest.mark.parametrize("authors", [(), ("The editors", "R&D {group}")])
def test_a_page_entry_built_in_code_formats_as_its_bibtex_would_parse(title, authors):
    cite = cite_page(
        title=title,
        url="x/",
        base=BASE,
        container=GUIDE,
        publisher=EDITORS,
        date="2026-11-23",
        authors=authors,
    )
    parsed, problems = Bibliography.parse(cite.bibtex)
    assert problems == []
    assert cite.apa_text == parsed.format_reference(cite.key, "text")
    assert cite.apa_html == parsed.format_reference(cite.key, "html")
    ris = "\n".join(
        f"{tag}  - {value}"
        for tag, value in format_ris_record(cite.key, parsed.entry(cite.key), parsed.facts(cite.key))
    )
    assert cite.ris == ris
