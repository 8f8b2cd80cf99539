from __future__ import annotations

import html
import re

import pytest

from coguide.cli import build_site


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import make_project

    root = make_project(tmp_path_factory.mktemp("adapter") / "p", "renamed-id", full=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("COGUIDE_REPO_URL", "https://example.org/guide/repo")
    try:
        assert build_site(root, root / "site", verbose=False) == 0
    finally:
        mp.undo()
    return root


def test_old_ids_redirect_to_the_renamed_page(built):
    for alias in ("user", "service-users"):
        page = (built / "site" / "terms" / alias / "index.html").read_text()
        assert "../service-user/" in page, alias


def test_record_pages_suggest_a_change_to_their_data_file_at_the_record_line(built):
    # In the fixture's terms.csv, "client" is the first record: line 2, after the header.
    lines = (built / "datapackage" / "terms.csv").read_text(encoding="utf-8-sig").splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith("client,"))
    page = (built / "site" / "terms" / "client" / "index.html").read_text()
    assert f'href="https://example.org/guide/repo/blob/main/datapackage/terms.csv#L{line}"' in page
    assert 'rel="edit">Suggest a change</a>' in page


def test_every_page_has_report_a_problem_with_its_address(built):
    for path in ("terms/client/index.html", "about/index.html", "index.html"):
        page = (built / "site" / path).read_text()
        match = re.search(r'<a href="([^"]*)" class="[^"]*coguide-report">Report a problem</a>', page)
        assert match, f"{path} has no Report a problem link"
        url = html.unescape(match.group(1))
        assert url.startswith("https://example.org/guide/repo/issues/new?template=report-error.yml&"), url
        assert "page=" in url and "title=Error%3A+" in url, url


def test_hand_written_pages_link_to_their_source(built):
    page = (built / "site" / "about" / "index.html").read_text()
    assert 'href="https://example.org/guide/repo/edit/main/docs/about.md"' in page
    assert 'rel="edit">Edit this page</a>' in page


def test_generated_files_never_land_in_docs(built):
    assert not (built / "docs" / "terms").exists()
    assert (built / "generated" / "terms" / "client.md").is_file()


def test_essay_page_has_linked_citations_and_references(built):
    (page,) = (built / "site" / "blog").glob("2026/01/05/a-fixture-essay/index.html")
    html = page.read_text()
    assert 'class="cite" href="../../../../../bibliography/#mclaughlin2009"' in html
    assert ">References</h2>" in html or 'id="references"' in html
    bib = (built / "site" / "bibliography" / "index.html").read_text()
    assert 'id="mclaughlin2009"' in bib
    assert 'href="../blog/2026/01/05/a-fixture-essay/"' in bib


def test_generated_index_pages_suggest_a_change_to_their_source(built):
    page = (built / "site" / "bibliography" / "index.html").read_text()
    assert 'href="https://example.org/guide/repo/edit/main/datapackage/references.bib"' in page
    assert 'rel="edit">Suggest a change</a>' in page and ">Report a problem</a>" in page
