from __future__ import annotations

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


def test_record_pages_suggest_a_change_to_their_data_file(built):
    page = (built / "site" / "terms" / "client" / "index.html").read_text()
    assert 'href="https://example.org/guide/repo/edit/main/datapackage/terms.csv"' in page
    assert 'rel="edit">Suggest a change</a>' in page


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
