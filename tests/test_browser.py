"""Real-browser checks of the built site: search, citations, keyboard, dark mode, phone layout, copy buttons,
screenshots, axe-core accessibility and Lighthouse scores.

They drive Debian's Chromium through Playwright and skip, saying what to install, when Chromium (or, for
Lighthouse, the npm packages of package.json) is absent; with ``CI=true`` (GitHub Actions, ``.ci/run``) a
missing tool fails them instead, so CI cannot pass without running them. ``.ci/run`` installs both.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, ServedSite, missing_tool

CHROMIUM = Path("/usr/bin/chromium")
#: The flags this machine needs (no outside network); Playwright adds a fresh --user-data-dir on every launch.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
#: How long to wait for something the page does on its own (search index loading, scrolling).
WAIT_MS = 20_000
#: axe-core rule tags for WCAG 2.2 level AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: Lighthouse categories and the lowest score each may have.
LIGHTHOUSE_CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Performance is a timing measurement, so it is recorded on the Quality page rather than asserted here.
LIGHTHOUSE_MIN = {"accessibility": 0.95, "best-practices": 0.95, "seo": 0.95}


def first_essay(site: ServedSite) -> str:
    """Return the path of the first essay (by address) that cites a work."""
    for page in sorted(site.path.glob("blog/[0-9]*/*/*/*/index.html")):
        if 'class="cite"' in page.read_text(encoding="utf-8"):
            return page.parent.relative_to(site.path).as_posix() + "/"
    raise AssertionError("no essay with a citation in the built site")


def full_reference(site: ServedSite, key: str) -> str:
    """Return a work's full reference as its bibliography entry shows it, as plain text with single spaces."""
    page = (site.path / "bibliography" / "index.html").read_text(encoding="utf-8")
    entry = re.search(rf'id="{re.escape(key)}"[^>]*>\s*<p class="bib-ref">(.*?)</p>', page, re.DOTALL)
    assert entry, f"no bibliography entry for {key}"
    text = re.sub(r'<a class="headerlink".*?</a>', "", entry.group(1))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def citation_preview(cite):
    """Return the hover/focus preview of a citation link (the one beside it in its ``.cite-item``)."""
    return cite.locator("xpath=following-sibling::span[contains(concat(' ', @class, ' '), ' cite-preview ')]")


def cite_key(cite) -> str:
    """Return the key a citation link cites: its fragment, as written in its ``href``."""
    return cite.get_attribute("href").partition("#")[2]


def first_record(site: ServedSite, section: str) -> str:
    """Return the path of the first record page of a section."""
    pages = sorted(p for p in (site.path / section).glob("*/index.html"))
    assert pages, f"no pages under {section}/"
    return pages[0].parent.relative_to(site.path).as_posix() + "/"


def named_pages(site: ServedSite) -> dict[str, str]:
    """Return the pages the browser checks visit, by name, as paths relative to the site."""
    return {
        "home": "",
        "essay": first_essay(site),
        "label": "terms/expert-by-experience/",
        "concept": first_record(site, "concepts"),
        "case": first_record(site, "cases"),
        "debates": "debates/",
        "timeline": "timeline/",
        "bibliography": "bibliography/",
        "essays-index": "blog/",
        "labels-index": "terms/",
        "concepts-index": "concepts/",
        "cases-index": "cases/",
        "glossary": "glossary/",
        "about": "about/",
        "not-found": "404.html",
        "compare": "terms/compare/",
        "figures": "figures/",
        "offline": "offline/",
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Launch headless Chromium once for the module."""
    if not CHROMIUM.is_file():
        missing_tool(
            "Chromium is not installed at /usr/bin/chromium: apt-get install chromium (as .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, real_site):
    """Return a function opening a site page in a fresh browser context; ``opener.errors[page]`` are its errors."""
    contexts = []
    errors: dict[object, list[str]] = {}

    def opener(path: str, viewport: dict[str, int] = DESKTOP):
        context = browser.new_context(viewport=viewport, color_scheme="light", reduced_motion="reduce")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        seen = errors[page] = []
        page.on("pageerror", lambda error: seen.append(f"uncaught: {error}"))
        page.on(
            "console",
            lambda message: seen.append(f"console: {message.text}") if message.type == "error" else None,
        )
        page.goto(real_site.url + path, wait_until="load")
        return page

    opener.errors = errors
    yield opener
    for context in contexts:
        context.close()


# --- Behaviour --------------------------------------------------------------------------------------------------


def test_search_finds_a_label(open_page):
    from playwright.sync_api import expect

    page = open_page("")
    page.locator("input.md-search__input").click()
    page.keyboard.type("expert by experience")
    result = page.locator('.md-search-result__item a[href*="terms/expert-by-experience/"]')
    expect(result.first).to_be_visible(timeout=WAIT_MS)


def test_citation_leads_to_its_entry_and_back(open_page, real_site):
    from playwright.sync_api import expect

    essay = first_essay(real_site)
    page = open_page(essay)
    cite = page.locator("article a.cite").first
    key = cite_key(cite)
    cite.click()
    expect(page).to_have_url(re.compile(rf"/bibliography/#{re.escape(key)}$"))
    entry = page.locator(f"[id='{key}']")
    expect(entry).to_be_in_viewport(timeout=WAIT_MS)
    back = entry.locator(".cited-in a").filter(has=page.locator(f"xpath=self::a[contains(@href, '{essay}')]"))
    back.first.click()
    expect(page).to_have_url(real_site.url + essay, timeout=WAIT_MS)


def test_citation_preview_shows_on_keyboard_focus(open_page, real_site):
    from playwright.sync_api import expect

    page = open_page(first_essay(real_site))
    first = page.locator("article a.cite").first
    expect(citation_preview(first)).to_be_hidden()
    for _ in range(500):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.matches('a.cite')")
        if focused:
            break
    else:
        pytest.fail("no citation link is reachable with the Tab key")
    cite = page.locator("a.cite:focus")
    preview = citation_preview(cite)
    expect(preview).to_be_visible()
    # The preview is the full reference, and the link is described by the page's one copy of it.
    key = cite_key(cite)
    reference = full_reference(real_site, key)
    assert " ".join(preview.inner_text().split()) == reference
    described = page.locator(f"[id='{cite.get_attribute('aria-describedby')}']")
    assert described.count() == 1, "a citation's description is not on the page exactly once"
    assert " ".join(described.text_content().split()) == reference


@pytest.mark.parametrize("where", ["label", "glossary", "essays-index"])
def test_citation_preview_shows_the_full_reference_on_hover(open_page, real_site, where):
    """A page with a reference list, one without (its previews in a hidden list) and the essays' excerpts."""
    from playwright.sync_api import expect

    page = open_page(named_pages(real_site)[where])
    cites = page.locator("article a.cite")
    assert cites.count() > 0, f"the {where} page cites nothing"
    for index in sorted({0, cites.count() - 1}):
        cite = cites.nth(index)
        preview = citation_preview(cite)
        expect(preview).to_be_hidden()
        cite.hover()
        expect(preview).to_be_visible()
        assert " ".join(preview.inner_text().split()) == full_reference(real_site, cite_key(cite))
        assert preview.locator("a").count() == 0, "a preview holds a link"
        page.mouse.move(0, 0)
        expect(preview).to_be_hidden()


def test_dark_mode_toggle_switches_the_palette(open_page):
    from playwright.sync_api import expect

    page = open_page("")
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    page.locator("[data-md-component=palette] label:visible").first.click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")


def test_navigation_works_at_phone_width(open_page, real_site):
    from playwright.sync_api import expect

    page = open_page("", PHONE)
    # The blog's "Labels" category shares the name, so the link is found by its address.
    labels = page.locator("nav.md-nav--primary > ul > li > a.md-nav__link[href='terms/']")
    expect(labels).not_to_be_in_viewport()
    page.locator("label.md-header__button[for='__drawer']").click()
    expect(labels).to_be_in_viewport()
    labels.click()
    expect(page).to_have_url(real_site.url + "terms/")
    expect(page.locator("h1")).to_have_text(re.compile(r"^Labels"))


def test_cite_this_page_copies_its_text(open_page, real_site):
    from playwright.sync_api import expect

    page = open_page("terms/expert-by-experience/")
    buttons = page.locator(".cite-this-page button[data-copy-target]")
    # Every record page has the box, with a copy button for each format (APA, BibTeX, RIS); losing it fails.
    assert buttons.count() == 3, "the page lacks the 'Cite this page' box's buttons (.cite-this-page button)"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=real_site.url.rstrip("/"))
    page.locator(".cite-this-page summary").click()
    for index in range(buttons.count()):
        button = buttons.nth(index)
        target = page.locator(f"[id='{button.get_attribute('data-copy-target')}']")
        # BibTeX and RIS are text boxes; APA is the formatted reference shown, copied as its text.
        is_box = target.evaluate("el => el.tagName === 'TEXTAREA'")
        text = target.input_value() if is_box else target.text_content()
        assert text.strip(), "the box to copy from is empty"
        button.click()
        expect(button).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == text


SCREENSHOT_PAGES = (
    "home",
    "essay",
    "label",
    "case",
    "timeline",
    "labels-index",
    "compare",
    "figures",
    "debates",
)


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Return the folder screenshots go to (kept by pytest with its last few temporary folders)."""
    return tmp_path_factory.mktemp("screenshots", numbered=False)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
@pytest.mark.parametrize("name", SCREENSHOT_PAGES)
def test_page_renders_without_errors_or_sideways_scrolling(
    open_page, real_site, screenshot_dir, name, viewport
):
    page = open_page(named_pages(real_site)[name], viewport)
    page.screenshot(path=screenshot_dir / f"{name}-{viewport['width']}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {viewport['width']}px wide"
    assert open_page.errors[page] == [], f"the page reported errors: {open_page.errors[page]}"


# --- Accessibility: axe-core ------------------------------------------------------------------------------------

AXE_PAGES = (
    "home",
    "essay",
    "label",
    "concept",
    "case",
    "debates",
    "timeline",
    "bibliography",
    "essays-index",
    "labels-index",
    "concepts-index",
    "cases-index",
    "glossary",
    "about",
    "not-found",
    "compare",
    "figures",
    "offline",
)


@pytest.mark.parametrize("name", AXE_PAGES)
def test_no_serious_accessibility_violations(open_page, real_site, name):
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(named_pages(real_site)[name])
    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    )
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} element(s), e.g. "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in serious
    )
    assert not serious, f"axe-core finds serious or critical WCAG 2.2 AA violations on {name}:\n{report}"


# --- Lighthouse ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form_factor", ["desktop", "mobile"])
@pytest.mark.parametrize("name", ["home", "essay", "label"])
def test_lighthouse_scores(real_site, tmp_path, name, form_factor):
    if not CHROMIUM.is_file():
        missing_tool(
            "Chromium is not installed at /usr/bin/chromium: apt-get install chromium (as .ci/run does)"
        )
    if not LIGHTHOUSE.is_file():
        missing_tool("Lighthouse is not installed: run `npm ci` in the project folder (as .ci/run does)")
    report = tmp_path / "lighthouse.json"
    flags = " ".join([*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"])
    run = subprocess.run(
        [
            str(LIGHTHOUSE),
            real_site.url + named_pages(real_site)[name],
            "--quiet",
            # Lighthouse's own default is a mid-range phone on a throttled connection.
            *(["--preset=desktop"] if form_factor == "desktop" else ["--form-factor=mobile"]),
            f"--only-categories={','.join(LIGHTHOUSE_CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
            # Screenshots and the back/forward-cache audit score nothing here and add seconds to every run.
            "--disable-full-page-screenshot",
            "--skip-audits=bf-cache,screenshot-thumbnails,final-screenshot",
            f"--chrome-flags={flags}",
        ],
        env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"lighthouse failed:\n{run.stderr[-3000:]}"
    result = json.loads(report.read_text(encoding="utf-8"))
    scores = {key: result["categories"][key]["score"] for key in LIGHTHOUSE_MIN}
    low = {key: score for key, score in scores.items() if score is None or score < LIGHTHOUSE_MIN[key]}
    failing = [
        f"{key}: {audit_id} ({result['audits'][audit_id].get('displayValue') or result['audits'][audit_id]['title']})"
        for key in low
        for ref in result["categories"][key]["auditRefs"]
        for audit_id in [ref["id"]]
        if ref["weight"]
        and (result["audits"][audit_id].get("score") or 0) < 1
        and result["audits"][audit_id].get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    ]
    assert not low, f"Lighthouse scores below the bar on {name} ({form_factor}): {scores}\n" + "\n".join(
        failing
    )
