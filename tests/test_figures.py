"""Figures, comparison pages, the to-scale timeline and the offline copy's link rewriting (no browser needed)."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from coguide.cite import find_citations
from coguide.model import build_model
from coguide.offline import offline_target, online_dir, point_links_at_files, zip_folder
from coguide.pages.figures import (
    cited_works,
    era_bucket,
    label_map,
    ladder_placements,
    render_faces_svg,
    render_label_map_svg,
    render_ladder_svg,
    short_markdown,
    shorten,
)
from coguide.pages.render import plain_text, render_site
from coguide.pages.timeline import render_timeline_svg, timeline_events
from coguide.source.load import load_project
from coguide.source.validate import _SVG_ACTIVE, RESERVED_IDS, parse_bibliography
from conftest import ROOT


@pytest.fixture(scope="module")
def real() -> object:
    """The model of the project's own data."""
    sources = load_project(ROOT)
    bib, _ = parse_bibliography(sources)
    return build_model(sources, bib)


@pytest.fixture(scope="module")
def real_pages(real) -> dict[str, str]:
    return {p.src_uri: p.content for p in render_site(real)}


# --- Short cells -------------------------------------------------------------------------------------------------


def test_shorten_keeps_a_short_first_sentence():
    assert shorten("A relationship of professional and dependant. The person brings a difficulty.") == (
        "A relationship of professional and dependant."
    )


def test_shorten_cuts_a_long_sentence_at_its_first_clause_or_a_word():
    text = "Mainly the professional, whose training defines the problem; the client's part is to co-operate."
    assert shorten(text, 60) == "Mainly the professional, whose training defines the problem."
    cut = shorten("word " * 40, 50)
    assert cut.endswith("…") and len(cut) <= 50 and not cut.endswith(" …")


def test_labels_matrix_cells_are_short_with_linked_citations(real, real_pages):
    page = real_pages["terms/index.md"]
    cells = re.findall(
        r'<td data-heading="(?:Relationship implied|Who holds power|Main critique)">(.*?)</td>', page, re.S
    )
    assert len(cells) == 3 * len(real.terms)
    read = [re.sub(r"<[^>]+>", "", c) for c in cells]
    assert max(len(c) for c in read) <= 110
    # A citation that survives the cut is a link to its entry, never bare text or Pandoc syntax.
    assert not any("@" in c or "[" in c for c in read)
    # Each citation is described by the page's one copy of its reference (its hidden list of previews).
    described = re.findall(r'aria-describedby="([^"]+)"', page)
    assert all(page.count(f'id="{d}"') == 1 for d in set(described))
    assert all(c.count('class="cite"') == c.count("aria-describedby=") for c in cells)
    assert page.count('<tr id="') == len(real.terms)


def test_short_markdown_keeps_whole_citations_or_none():
    def plain(text: str) -> str:
        return re.sub(r"\[@(\w+)\]", r"(\1)", text)

    assert short_markdown("Professional and dependant [@booth2019]. More here.", 60, plain) == (
        "Professional and dependant [@booth2019]."
    )
    assert short_markdown("Mainly the professional; the client co-operates [@booth2019].", 30, plain) == (
        "Mainly the professional."
    )
    cut = short_markdown("one two three four five six seven [@booth2019] eight nine ten.", 40, plain)
    assert cut.endswith("…") and "[" not in cut


def test_cited_works_lists_each_work_once_with_its_locator():
    assert (
        cited_works(find_citations("As @a [p. 4] argues, and others agree [@b; @a, p. 4]."))
        == "[@a, p. 4; @b]"
    )
    assert cited_works(find_citations("No citation here.")) == ""


# --- The ladder ----------------------------------------------------------------------------------------------------


def test_ladder_places_only_what_a_record_says_with_arnstein(real):
    placements = {p.record.id: p for p in ladder_placements(real)}
    probation = placements["probation-inspectorate-involvement"]
    assert (probation.rung, probation.band) == ("consultation", "tokenism")
    assert "@arnstein1969" in probation.evidence
    # The carer's history cites Arnstein but names no rung: it is not placed.
    assert "carer" not in placements


def test_ladder_needs_the_citation_and_the_rung_in_the_same_sentence(real):
    case = real.cases["probation-inspectorate-involvement"]
    uncited = dataclasses.replace(case, critiques="On Arnstein's ladder this is consultation.")
    elsewhere = dataclasses.replace(
        case, critiques="On Arnstein's ladder this is consultation. Power matters [@arnstein1969]."
    )
    band_only = dataclasses.replace(case, critiques="In Arnstein's terms this is tokenism [@arnstein1969].")
    for record, expected in ((uncited, None), (elsewhere, None), (band_only, ("", "tokenism"))):
        found = ladder_placements(SimpleNamespace(terms={}, cases={record.id: record}))
        assert [(p.rung, p.band) for p in found] == ([expected] if expected else [])


def test_figures_are_safe_accessible_svg(real):
    svgs = [
        render_ladder_svg(ladder_placements(real)),
        render_faces_svg([real.concepts[i] for i in ("one-dimensional-power", "power-as-discourse")], str),
        render_label_map_svg(*label_map(real)),
        render_timeline_svg(timeline_events(real)),
    ]
    for svg in svgs:
        assert _SVG_ACTIVE.search(svg) is None
        title = re.search(r'<title id="([^"]+)">[^<]+</title>', svg)
        desc = re.search(r'<desc id="([^"]+)">[^<]+</desc>', svg)
        assert title and desc
        assert f'aria-labelledby="{title.group(1)} {desc.group(1)}"' in svg


def test_ladder_svg_draws_eight_rungs_and_the_placement(real):
    svg = render_ladder_svg(ladder_placements(real))
    assert svg.count('class="fig-rung') == 8
    assert "Involving people on" in svg and "consultation" in svg


def test_label_map_counts_every_label_in_each_of_its_sectors(real):
    sectors, cells = label_map(real)
    assert sum(len(v) for v in cells.values()) == sum(len(t.sectors) for t in real.terms.values())
    client = real.terms["client"]
    for sector in client.sectors:
        assert client in cells[(sector, era_bucket(client.era_start))]
    svg = render_label_map_svg(sectors, cells)
    assert svg.count('class="fig-cell') == len(sectors) * 5


def test_figures_page_cites_its_sources_and_gives_text(real_pages):
    page = real_pages["figures/index.md"]
    for key in ("arnstein1969", "lukes2005", "bachrach1962", "dahl1957", "mclaughlin2009"):
        assert f'href="../bibliography/#{key}"' in page, key
    assert page.count("<figure") == 3 and page.count("<figcaption>") == 3
    assert "The ladder as text" in page and "The labels in each sector, by era" in page


def test_faces_panel_text_comes_from_the_concepts(real):
    faces = [real.concepts[i] for i in ("one-dimensional-power", "two-dimensional-power")]
    svg = render_faces_svg(faces, lambda text: plain_text(text, real.bibliography))
    assert "keep issues off the" in svg and "(Bachrach" in svg


# --- Compare, timeline and debates --------------------------------------------------------------------------------


def test_compare_page_shows_the_default_pair_and_holds_every_label(real, real_pages):
    page = real_pages["terms/compare.md"]
    visible = set(re.findall(r'<div class="compare-cell" data-label="([^"]+)"(?! hidden)', page))
    assert visible == {"client", "service-user"}
    assert len(re.findall(r'<option value="', page)) == 2 * len(real.terms)
    assert "compare" in RESERVED_IDS


def test_timeline_is_to_scale_and_lists_every_event_with_its_sources(real, real_pages):
    events = timeline_events(real)
    svg = render_timeline_svg(events)
    client, care_act = real.terms["client"], real.cases["care-act-2014"]
    label_y = re.search(r'href="#label-client".*?<circle class="tl-label" cx="\d+" cy="([\d.]+)"', svg)
    case_y = re.search(r'href="#case-care-act-2014".*?<rect class="tl-case" x="\d+" y="([\d.]+)"', svg)
    # 12 units a year: the distance between two points is the distance between their years.
    assert float(case_y.group(1)) + 5 - float(label_y.group(1)) == pytest.approx(
        12 * (care_act.start_year - client.era_start), abs=1
    )
    page = real_pages["timeline/index.md"]
    assert page.count('<li id="') == len(events)
    assert page.count('class="timeline-sources"') >= len(events) - 2


def test_debates_give_each_claim_a_permalink_and_a_cite_box(real, real_pages):
    page = real_pages["debates/index.md"]
    for argument in real.arguments.values():
        assert f'<a class="claim-permalink" href="#{argument.id}">' in page
        assert f'id="cite-claim-{argument.id}-apa"' in page
    assert page.count("<summary>Cite this claim</summary>") == len(real.arguments)


# --- The offline copy ---------------------------------------------------------------------------------------------


def test_online_dir_names_the_address_a_file_stands_for():
    assert online_dir("index.html") == ""
    assert online_dir("terms/index.html") == "terms/"
    assert online_dir("terms/client.html") == "terms/client/"


def test_directory_links_are_pointed_at_files(tmp_path: Path):
    for name in ("index.html", "terms/index.html", "terms/client.html", "bibliography/index.html", "a.svg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    page = "terms/client.html"
    assert offline_target(tmp_path, page, "../../bibliography/#key") == "../bibliography/index.html#key"
    assert offline_target(tmp_path, page, "../") == "index.html"
    assert offline_target(tmp_path, page, "./") == "client.html"
    assert offline_target(tmp_path, page, "../../a.svg") == "../a.svg"
    # A link already written from the page's own folder, to a directory address, is pointed at its file too.
    assert (
        offline_target(tmp_path, "terms/index.html", "../bibliography/#key")
        == "../bibliography/index.html#key"
    )
    # Links that already work, and links out of the site, are left alone.
    assert offline_target(tmp_path, page, "../bibliography/index.html#key") is None
    assert offline_target(tmp_path, page, "https://example.org/") is None
    assert offline_target(tmp_path, page, "#top") is None
    (tmp_path / page).write_text(
        '<a href="../../bibliography/#k">x</a><img src="../../a.svg">', encoding="utf-8"
    )
    assert point_links_at_files(tmp_path) == 2
    assert (tmp_path / page).read_text(encoding="utf-8") == (
        '<a href="../bibliography/index.html#k">x</a><img src="../a.svg">'
    )


def test_root_links_on_a_page_whose_address_is_a_file():
    from coguide.links import ROOT_LINK, resolve_root_links

    link = f'<a href="{ROOT_LINK}bibliography/#key">x</a>'
    assert resolve_root_links(link, "blog/") == '<a href="../bibliography/#key">x</a>'
    assert resolve_root_links(link, "blog/index.html") == '<a href="../bibliography/#key">x</a>'
    assert resolve_root_links(link, "index.html") == '<a href="bibliography/#key">x</a>'


def test_zip_is_stable_and_under_one_folder(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    folder = tmp_path / "copy"
    (folder / "terms").mkdir(parents=True)
    (folder / "index.html").write_text("home", encoding="utf-8")
    (folder / "terms" / "client.html").write_text("client", encoding="utf-8")
    (folder / ".coguide-generated").write_text("", encoding="utf-8")
    zip_folder(folder, tmp_path / "a.zip", "guide")
    zip_folder(folder, tmp_path / "b.zip", "guide")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.namelist() == ["guide/index.html", "guide/terms/client.html"]
