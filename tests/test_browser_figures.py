"""Real-browser checks of the compare view and of the offline copy opened from ``file://`` with its search.

Like test_browser.py, they drive Debian's Chromium through Playwright and skip (or, with ``CI=true``, fail)
when it is absent.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import test_browser
from coguide.offline import OFFLINE_FOLDER, OFFLINE_ZIP
from conftest import ServedSite
from test_browser import DESKTOP, PHONE, WAIT_MS

# The browser fixtures of test_browser.py, shared.
browser = test_browser.browser
open_page = test_browser.open_page


def visible_labels(page) -> list[str]:
    """Return the labels shown in the first row of the comparison, in the order shown."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.compare-row')[0].querySelectorAll('.compare-cell'))
            .filter(c => !c.hidden)
            .sort((a, b) => a.getBoundingClientRect().left - b.getBoundingClientRect().left
                || a.getBoundingClientRect().top - b.getBoundingClientRect().top)
            .map(c => c.dataset.label)"""
    )


def test_compare_shows_the_default_pair_without_javascript(browser, real_site: ServedSite):
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(real_site.url + "terms/compare/")
        assert visible_labels(page) == ["client", "service-user"]
        assert page.locator(".compare-form").is_hidden()
        assert page.locator("#compare-power").is_visible()
    finally:
        context.close()


def test_compare_address_picks_the_pair_and_follows_the_choice(open_page):
    page = open_page("terms/compare/?a=patient&b=citizen")
    assert visible_labels(page) == ["patient", "citizen"]
    assert page.locator("#compare-a").input_value() == "patient"
    page.locator("#compare-b").select_option("customer")
    assert visible_labels(page) == ["patient", "customer"]
    assert page.url.endswith("terms/compare/?a=patient&b=customer")
    assert page.locator(".compare-link").get_attribute("href") == "?a=patient&b=customer"
    # The address is the comparison: opening it again shows the same pair.
    again = open_page("terms/compare/?a=patient&b=customer")
    assert visible_labels(again) == ["patient", "customer"]
    assert open_page.errors[page] == [] and open_page.errors[again] == []


def test_compare_ignores_an_unknown_label(open_page):
    page = open_page("terms/compare/?a=nobody&b=citizen")
    assert visible_labels(page) == ["client", "citizen"]


def test_a_label_page_links_to_its_comparison(open_page):
    page = open_page("terms/patient/")
    page.locator("a", has_text="with another label").click()
    page.wait_for_load_state()
    assert visible_labels(page) == ["patient", "client"]
    client = open_page("terms/client/")
    client.locator("a", has_text="with another label").click()
    client.wait_for_load_state()
    assert visible_labels(client) == ["client", "service-user"]


def test_compare_stacks_on_a_phone(open_page):
    page = open_page("terms/compare/?a=patient&b=citizen", PHONE)
    cells = page.locator("#compare-power ~ .compare-pair .compare-cell:not([hidden])")
    first, second = sorted((cells.nth(0).bounding_box(), cells.nth(1).bounding_box()), key=lambda b: b["y"])
    assert second["y"] > first["y"] + first["height"] - 1, "the two labels should stack on a phone"
    assert first["width"] > PHONE["width"] * 0.8
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_labels_matrix_becomes_cards_on_a_phone(open_page):
    page = open_page("terms/", PHONE)
    row = page.locator(".label-matrix tbody tr").first
    box = row.bounding_box()
    assert box["width"] > PHONE["width"] * 0.8
    heading = page.evaluate(
        "getComputedStyle(document.querySelector('.label-matrix td'), '::before').content"
    )
    assert heading == '"Relationship implied"'


@pytest.fixture(scope="module")
def offline_copy(real_site: ServedSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Unzip the published offline copy and return its folder."""
    archive = real_site.path / OFFLINE_ZIP
    assert archive.is_file(), f"the site has no {OFFLINE_ZIP}"
    dest = tmp_path_factory.mktemp("offline")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(dest)
    return dest / OFFLINE_FOLDER


def test_offline_copy_is_linked_from_about(real_site: ServedSite):
    about = (real_site.path / "about" / "index.html").read_text(encoding="utf-8")
    assert 'href="../offline/"' in about
    offline = (real_site.path / "offline" / "index.html").read_text(encoding="utf-8")
    assert f'href="{real_site.url}{OFFLINE_ZIP}"' in offline


def test_offline_copy_opens_from_file_and_searches(browser, offline_copy: Path):
    context = browser.new_context(viewport=DESKTOP)
    outside: list[str] = []
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on(
            "request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((offline_copy / "index.html").as_uri())
        page.locator("input.md-search__input").click()
        page.keyboard.type("expert by experience", delay=20)
        results = page.locator(".md-search-result__item a")
        results.first.wait_for()
        assert "matching" in page.locator(".md-search-result__meta").text_content()
        hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
        target = next(h for h in hrefs if "terms/expert-by-experience.html" in h)
        page.goto(target if target.startswith("file:") else (offline_copy / target.split("#")[0]).as_uri())
        address = urlsplit(page.url)
        assert address.scheme == "file" and address.path.endswith("terms/expert-by-experience.html")
        assert "Expert by experience" in page.locator("h1").text_content()
        # A citation written as HTML by the generator leads to its bibliography entry in the copy.
        page.locator("a.cite").first.click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path.endswith("bibliography/index.html")
        assert page.evaluate("location.hash") and page.locator(page.evaluate("location.hash")).count() == 1
    finally:
        context.close()
    assert errors == []
    assert outside == [], f"the offline copy asked for {outside}"


def test_offline_copy_links_all_resolve(offline_copy: Path):
    broken = []
    pages = sorted(offline_copy.rglob("*.html"))
    assert len(pages) > 100
    for file in pages:
        page = file.relative_to(offline_copy).as_posix()
        if page == "404.html":
            continue  # served by a web host for missing addresses only; its links start at the host's root
        for href in re.findall(r'\s(?:href|src)="([^"]*)"', file.read_text(encoding="utf-8")):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            if not (file.parent / unquote(parts.path)).is_file():
                broken.append(f"{page}: {href}")
    assert broken == []
