"""Real-browser checks of citing and orientation: Cite this page, the printed handout, citation previews
(Esc and tap), the byline on a phone, the 404 page under a sub-path and the citation meta tags.

Like test_browser.py they drive Debian's Chromium through Playwright, and skip (or fail under ``CI=true``)
through `missing_tool` when it is absent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import yaml

from conftest import ROOT, ServedSite
from test_browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    DESKTOP,
    WAIT_MS,
    citation_preview,
    cite_key,
    first_essay,
    full_reference,
)

GUIDE = "Client, patient, customer, citizen?"
#: A phone's viewport, as the issue's checks used.
PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Launch headless Chromium once for the module."""
    if not CHROMIUM.is_file():
        from conftest import missing_tool

        missing_tool(
            "Chromium is not installed at /usr/bin/chromium: apt-get install chromium (as .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def visit(chromium):
    """Return a function opening an address in a fresh context (``touch=True`` for a phone with a touch screen)."""
    contexts = []

    def opener(url: str, viewport: dict[str, int] = DESKTOP, *, touch: bool = False):
        context = chromium.new_context(
            viewport=viewport, color_scheme="light", reduced_motion="reduce", has_touch=touch, is_mobile=touch
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url, wait_until="load")
        return page

    yield opener
    for context in contexts:
        context.close()


def essay_front_matter(site: ServedSite, essay: str) -> dict:
    """Return the front matter of the essay published at `essay` (``blog/YYYY/MM/DD/slug/``)."""
    slug = essay.rstrip("/").rsplit("/", 1)[-1]
    text = (ROOT / "docs" / "blog" / "posts" / f"{slug}.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])


# --- Cite this page ------------------------------------------------------------------------------------------------


def test_cite_this_page_for_an_essay_names_the_editors_the_publication_date_and_the_address(visit, real_site):
    essay = first_essay(real_site)
    meta = essay_front_matter(real_site, essay)
    date = meta["date"]["created"] if isinstance(meta["date"], dict) else meta["date"]
    assert isinstance(date, dt.date)
    page = visit(real_site.url + essay)
    title = page.locator("article h1").first.inner_text().replace("¶", "").strip()
    page.locator(".cite-this-page summary").click()
    apa = page.locator(".cite-this-page .cite-apa").inner_text()
    expected = f"The guide’s editors. ({date.year}, {date:%B} {date.day}). {title}"
    assert apa.startswith(expected), f"{apa!r} does not start with {expected!r}"
    assert apa.endswith(f"{GUIDE} {real_site.url}{essay}")
    assert page.locator(".cite-this-page .cite-apa em").inner_text() == GUIDE
    bibtex = page.locator("#cite-bibtex").input_value()
    assert "author = {{The guide's editors}}" in bibtex and f"date = {{{date.isoformat()}}}" in bibtex
    assert f"url = {{{real_site.url}{essay}}}" in bibtex
    ris = page.locator("#cite-ris").input_value().splitlines()
    assert (
        ris[0] == "TY  - BLOG"
        and "AU  - The guide’s editors" in ris
        and f"UR  - {real_site.url}{essay}" in ris
    )


def test_cite_this_page_for_a_record_is_an_entry_in_the_guide(visit, real_site):
    page = visit(real_site.url + "terms/client/")
    page.locator(".cite-this-page summary").click()
    apa = page.locator(".cite-this-page .cite-apa").inner_text()
    assert re.fullmatch(
        rf"Client\. \(\d{{4}}\)\. In {re.escape(GUIDE)} The guide’s editors\. {re.escape(real_site.url)}terms/client/",
        apa,
    ), apa
    assert page.locator(".cite-this-page .cite-apa em").inner_text() == GUIDE
    assert page.locator("#cite-ris").input_value().splitlines()[0] == "TY  - CHAP"


def test_reference_managers_find_the_citation_meta_tags(visit, real_site):
    page = visit(real_site.url + "terms/client/")
    tags = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('meta[name^=citation_]')].map(m => [m.name, m.content]))"
    )
    assert tags["citation_title"] == "Client"
    assert tags["citation_inbook_title"] == GUIDE
    assert tags["citation_publisher"] == "The guide's editors"
    assert tags["citation_public_url"] == real_site.url + "terms/client/"
    assert re.fullmatch(r"\d{4}", tags["citation_publication_date"])
    feed = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    assert feed.count() == 1
    assert (
        page.evaluate("document.querySelector('link[type=\"application/atom+xml\"]').href")
        == real_site.url + "feed.xml"
    )


# --- Print -----------------------------------------------------------------------------------------------------------


def test_a_printed_essay_starts_with_its_byline_address_and_cite_line(visit, real_site):
    essay = first_essay(real_site)
    page = visit(real_site.url + essay)
    cite_as = page.locator(".page-cite-as")
    assert not cite_as.is_visible(), "the cite-as line is for print only"
    page.emulate_media(media="print")
    assert cite_as.is_visible()
    assert cite_as.inner_text().startswith("Cite as: The guide’s editors. (")
    assert page.locator(".page-address").inner_text() == real_site.url + essay
    assert page.locator(".page-byline").is_visible()
    assert not page.locator(".cite-this-page").is_visible()
    assert not page.locator(".md-sidebar--primary").is_visible()
    top = page.locator("article h1").first.bounding_box()["y"]
    cite_top = cite_as.bounding_box()["y"]
    references = page.locator("#references").bounding_box()["y"]
    assert top < cite_top < references, "the cite-as line is not between the title and the references"
    # Each address prints once: a reference's DOI link already shows its address, so nothing is appended to it.
    appended = page.evaluate(
        "[...document.querySelectorAll('.reference-list a[href^=http]')]"
        ".map(a => getComputedStyle(a, '::after').content).filter(c => c !== 'none' && c !== 'normal')"
    )
    assert page.locator(".reference-list a[href^=http]").count() > 0
    assert appended == []


# --- Citation previews --------------------------------------------------------------------------------------------


def test_esc_closes_a_citation_preview(visit, real_site):
    page = visit(real_site.url + first_essay(real_site))
    cite = page.locator("article a.cite").first
    preview = citation_preview(cite)
    cite.hover()
    assert preview.is_visible()
    assert " ".join(preview.inner_text().split()) == full_reference(real_site, cite_key(cite))
    page.keyboard.press("Escape")
    assert not preview.is_visible(), "Esc leaves the hover preview open"
    page.locator("article h1").first.hover()
    cite.focus()
    assert preview.is_visible(), "the preview does not come back once the pointer has left"
    page.keyboard.press("Escape")
    assert not preview.is_visible(), "Esc leaves the focus preview open"


def test_a_tap_opens_a_citation_preview_and_a_second_tap_follows_it(visit, real_site):
    essay = first_essay(real_site)
    page = visit(real_site.url + essay, PHONE_390, touch=True)
    cite = page.locator("article a.cite").first
    key = cite_key(cite)
    preview = citation_preview(cite)
    cite.scroll_into_view_if_needed()
    cite.tap()
    assert preview.is_visible(), "a tap does not open the preview"
    assert " ".join(preview.inner_text().split()) == full_reference(real_site, key)
    assert page.url == real_site.url + essay, "the first tap left the page"
    page.locator("article h1").first.tap()
    assert not preview.is_visible(), "a tap elsewhere does not close the preview"
    cite.tap()
    cite.tap()
    page.wait_for_url(re.compile(rf"/bibliography/#{re.escape(key)}$"))


# --- Phones ---------------------------------------------------------------------------------------------------------


def test_an_essays_date_and_author_sit_directly_under_its_title_on_a_phone(visit, real_site):
    page = visit(real_site.url + first_essay(real_site), PHONE_390)
    title = page.locator("article h1").first.bounding_box()
    byline = page.locator(".page-byline")
    assert byline.is_visible()
    box = byline.bounding_box()
    assert 0 <= box["y"] - (title["y"] + title["height"]) < 40, "the byline is not directly under the title"
    text = byline.inner_text()
    assert text.startswith("By The guide's editors · Published ")


# --- The 404 page -------------------------------------------------------------------------------------------------


def test_the_404_page_offers_search_and_the_main_sections_under_a_sub_path(visit, subpath_site):
    page = visit(subpath_site.url + "no/such/page/")
    assert page.locator("h1").first.inner_text().startswith("Page not found")
    links = page.locator(".coguide-404-sections a")
    assert links.count() >= 8
    for index in range(links.count()):
        href = page.evaluate("a => a.href", links.nth(index).element_handle())
        assert href.startswith(subpath_site.url), f"{href} leaves the sub-path"
    page.locator(".coguide-404-search").click()
    search = page.locator("input.md-search__input")
    assert search.is_visible()
    page.keyboard.type("expert by experience")
    result = page.locator('.md-search-result__item a[href*="terms/expert-by-experience/"]')
    result.first.wait_for(state="visible", timeout=WAIT_MS)
    page.keyboard.press("Escape")
    links.filter(has_text="Labels").first.click()
    page.wait_for_url(subpath_site.url + "terms/")
    assert page.locator("h1").first.inner_text().startswith("Labels")


# --- Lean record pages --------------------------------------------------------------------------------------------


def test_a_record_pages_bare_citations_and_references_get_their_descriptions_previews_and_links(
    visit, real_site
):
    """The page's Markdown gives a citation only its link; in the browser each still gets its full reference."""
    page = visit(real_site.url + "terms/client/")
    cites = page.locator("article a.cite")
    assert cites.count() > 3, "the label page cites too little to check"
    for index in range(cites.count()):
        cite = cites.nth(index)
        key = cite_key(cite)
        reference = full_reference(real_site, key)
        # cite.js names the page's one copy of the reference as the link's description and builds its preview.
        assert cite.get_attribute("aria-describedby") == f"cite-{key}"
        described = page.locator(f"[id='cite-{key}']")
        assert described.count() == 1
        assert " ".join(described.text_content().split()) == reference
        assert cite.evaluate("a => a.parentElement.classList.contains('cite-item')")
        assert " ".join(citation_preview(cite).text_content().split()) == reference
    backlinks = page.locator(".reference-list a.ref-backlink")
    assert backlinks.count() > 3
    for index in range(backlinks.count()):
        link = backlinks.nth(index)
        assert link.get_attribute("aria-label") == "In the bibliography"
        assert link.get_attribute("title") == "In the bibliography"
        reference = link.evaluate("a => a.parentElement.firstElementChild.id")
        assert link.get_attribute("href") == "../../bibliography/#" + reference.removeprefix("cite-")
    # The link made in the browser leads to the entry.
    key = backlinks.first.get_attribute("href").partition("#")[2]
    backlinks.first.click()
    page.wait_for_url(re.compile(rf"/bibliography/#{re.escape(key)}$"))
