"""Built-site checks on the real project: links and anchors, nothing lost, citations, and reproducible builds.

The site is built once per session by the ``real_site`` fixture (conftest.py) and served on 127.0.0.1.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import properdocs.utils
import pytest
import yaml

from coguide.cite import find_citations
from conftest import ROOT, ServedSite, build_real_site, site_file

DATA = ROOT / "datapackage"
POSTS = ROOT / "docs" / "blog" / "posts"
#: Where each resource's pages live in the site.
SECTIONS = {"terms": "terms", "concepts": "concepts", "cases": "cases"}
#: Attributes whose value is a link to check, by element.
LINK_ATTRIBUTES = {
    "a": "href",
    "link": "href",
    "script": "src",
    "img": "src",
    "area": "href",
    "source": "src",
}


@dataclass(kw_only=True)
class Link:
    """A link found on a page."""

    tag: str
    target: str
    classes: tuple[str, ...]
    key: str | None
    described_by: str | None = None
    bib_entry: str | None
    in_cited_in: bool


@dataclass(kw_only=True)
class ParsedPage:
    """What the checks need from one built page: its ids and its links."""

    ids: set[str] = field(default_factory=set)
    #: How many elements carry each id (an id must be unique on its page).
    id_counts: dict[str, int] = field(default_factory=dict)
    #: The text of each element with an id (its descendants' text included), for the citation previews.
    id_texts: dict[str, str] = field(default_factory=dict)
    #: The text of each bibliography entry's reference (``p.bib-ref``), by the entry's id.
    bib_refs: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)


class PageParser(HTMLParser):
    """Collect ids, links, and which bibliography entry and "Cited in" line a link sits in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._bib_entry: str | None = None
        self._cited_in = False
        #: The span with an id whose text is being collected, and how many spans deep inside it the parser is.
        self._text_of: str | None = None
        self._span_depth = 0
        self._in_bib_ref = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        classes = tuple(values.get("class", "").split())
        if "id" in values:
            self.page.ids.add(values["id"])
            self.page.id_counts[values["id"]] = self.page.id_counts.get(values["id"], 0) + 1
        if tag == "span":
            if self._text_of is not None:
                self._span_depth += 1
            elif "id" in values:
                self._text_of, self._span_depth = values["id"], 0
                self.page.id_texts.setdefault(self._text_of, "")
        if tag == "a" and "name" in values:
            self.page.ids.add(values["name"])
        if "bib-entry" in classes:
            self._bib_entry = values.get("id")
        if tag == "p":
            self._cited_in = "cited-in" in classes
            self._in_bib_ref = "bib-ref" in classes and self._bib_entry is not None
            if self._in_bib_ref:
                self.page.bib_refs[self._bib_entry] = ""
        attr = LINK_ATTRIBUTES.get(tag)
        if attr and values.get(attr):
            self.page.links.append(
                Link(
                    tag=tag,
                    target=values[attr],
                    classes=classes,
                    # A citation names its key by its fragment alone (the attribute as written).
                    key=values[attr].partition("#")[2] if "cite" in classes else None,
                    described_by=values.get("aria-describedby"),
                    bib_entry=self._bib_entry,
                    in_cited_in=self._cited_in,
                )
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._cited_in = False
            self._in_bib_ref = False
        if tag == "span" and self._text_of is not None:
            if self._span_depth:
                self._span_depth -= 1
            else:
                self._text_of = None

    def handle_data(self, data: str) -> None:
        if self._text_of is not None:
            self.page.id_texts[self._text_of] += data
        if self._in_bib_ref and self._bib_entry is not None:
            self.page.bib_refs[self._bib_entry] += data


@cache
def parse_page(path: Path) -> ParsedPage:
    """Parse one built HTML page (cached: the site does not change during a session)."""
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.page


def page_url(site: ServedSite, path: Path) -> str:
    """Return the address a built file is served at."""
    rel = path.relative_to(site.path).as_posix()
    return site.url + (rel.removesuffix("index.html"))


def resolve(site: ServedSite, from_page: Path, target: str) -> tuple[str, str] | None:
    """Return the site path and fragment a link points at, or None when it leaves the site."""
    absolute = urljoin(page_url(site, from_page), target)
    if not absolute.startswith(site.url):
        return None
    parts = urlsplit(absolute)
    return parts.path, unquote(parts.fragment)


def html_pages(site: ServedSite) -> list[Path]:
    return sorted(site.path.rglob("*.html"))


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / f"{name}.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def essays() -> list[tuple[Path, dict, str]]:
    """Return every published essay: its file, its front matter and its title."""
    found = []
    for path in sorted(POSTS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
        if meta.get("draft"):
            continue
        title = next(line[2:].strip() for line in body.splitlines() if line.startswith("# "))
        found.append((path, meta, title))
    return found


def essay_path(path: Path, meta: dict) -> str:
    """Return an essay's address as mkdocs.yml's ``post_url_format: "{date}/{file}"`` makes it."""
    date = meta["date"]
    if isinstance(date, dict):
        date = date["created"]
    if isinstance(date, dt.datetime):
        date = date.date()
    slug = meta.get("slug") or path.stem
    return f"blog/{date:%Y/%m/%d}/{slug}/"


# --- Links and anchors ------------------------------------------------------------------------------------------


# LinkChecker's command line, without its one step that depends on who runs it: started as root, it switches to
# the user "nobody", who cannot read a checkout in a private folder (a fresh clone in `mktemp -d`, a home folder)
# and then fails to load its own modules from .venv. The check only reads the local test server and needs no
# rights to give up, so it runs as whoever runs the tests.
RUN_LINKCHECKER = """
import sys
from linkcheck.command import linkchecker as command
if not callable(getattr(command, "drop_privileges", None)):
    sys.exit("linkcheck.command.linkchecker.drop_privileges is gone: see how this LinkChecker drops root rights")
command.drop_privileges = lambda: None
sys.argv[0] = "linkchecker"
sys.exit(command.linkchecker())
"""


def test_linkchecker_finds_no_broken_internal_link(real_site, tmp_path):
    # LinkChecker's AnchorCheck plugin fetches and parses a page again for every distinct #fragment pointing at it
    # (about 8 minutes on this site, mostly the bibliography's anchors), so anchors are checked by the next test.
    config = tmp_path / "linkcheckerrc"
    config.write_text(
        "[checking]\nthreads=4\n"
        # The politeness limit is for other people's servers; ours sends the header that lifts it (conftest.py).
        "maxrequestspersecond=1000\n"
        "[filtering]\ncheckextern=0\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_LINKCHECKER,
            "--config",
            str(config),
            "--no-status",
            "--output",
            "csv",
            real_site.url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    rows = [
        row
        for row in csv.DictReader(
            (line for line in run.stdout.splitlines() if not line.startswith("#")), delimiter=";"
        )
    ]
    report = "\n".join(
        f"{r['parentname']}:{r['line']}: {r['urlname']} -> {r['result']} {r['warningstring']}" for r in rows
    )
    assert run.returncode == 0 and not rows, (
        f"LinkChecker (exit {run.returncode}) reports:\n{report}\n{run.stderr}"
    )


def test_every_internal_link_and_anchor_resolves(real_site):
    broken = []
    checked = 0
    for page in html_pages(real_site):
        for link in parse_page(page).links:
            resolved = resolve(real_site, page, link.target)
            if resolved is None:
                continue
            path, fragment = resolved
            target = site_file(real_site.path, path.removeprefix(urlsplit(real_site.url).path))
            checked += 1
            where = f"{page.relative_to(real_site.path)}: <{link.tag}> {link.target}"
            if not target.is_file():
                broken.append(f"{where}: no file {target.relative_to(real_site.path)}")
            elif fragment and target.suffix == ".html" and fragment not in parse_page(target).ids:
                broken.append(f"{where}: no id {fragment!r} in {target.relative_to(real_site.path)}")
    assert checked > 1000, "too few internal links found: is the parser reading the pages?"
    assert not broken, f"{len(broken)} broken internal link(s):\n" + "\n".join(broken[:50])


# --- Nothing lost -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", sorted(SECTIONS))
def test_every_record_has_its_page(real_site, resource):
    ids = [row["id"] for row in read_csv(resource)]
    assert ids, f"{resource}.csv has no rows"
    missing = [i for i in ids if not (real_site.path / SECTIONS[resource] / i / "index.html").is_file()]
    assert not missing, f"records of {resource}.csv without a page: {missing}"


@pytest.mark.parametrize("resource", ["questions", "arguments"])
def test_every_debate_record_has_its_anchor(real_site, resource):
    ids = [row["id"] for row in read_csv(resource)]
    assert ids, f"{resource}.csv has no rows"
    anchors = parse_page(real_site.path / "debates" / "index.html").ids
    missing = [i for i in ids if i not in anchors]
    assert not missing, f"records of {resource}.csv without an anchor on debates/: {missing}"


def test_every_essay_has_its_page(real_site):
    found = essays()
    assert found, "no essays found in docs/blog/posts"
    missing = []
    for path, meta, title in found:
        page = real_site.path / essay_path(path, meta) / "index.html"
        if not page.is_file() or title not in page.read_text(encoding="utf-8"):
            missing.append(f"{path.name} -> {page.relative_to(real_site.path)}")
    assert not missing, "essays without their page:\n" + "\n".join(missing)


def bib_keys() -> list[str]:
    text = (DATA / "references.bib").read_text(encoding="utf-8-sig")
    entries = re.findall(r"@(\w+)\s*\{\s*([^,\s]+)\s*,", text)
    return [key for kind, key in entries if kind.lower() not in ("comment", "string", "preamble")]


def cited_keys() -> set[str]:
    """Return every key cited anywhere: the citations table, text cells, and the essays."""
    keys = {row["key"] for row in read_csv("citations")}
    texts = [
        cell
        for name in ("terms", "concepts", "cases", "questions", "arguments")
        for row in read_csv(name)
        for cell in row.values()
        if cell
    ]
    texts += [path.read_text(encoding="utf-8") for path, _meta, _title in essays()]
    keys |= {item.key for text in texts for citation in find_citations(text) for item in citation.items}
    return keys


def test_every_reference_and_every_cited_key_has_an_entry(real_site):
    anchors = parse_page(real_site.path / "bibliography" / "index.html").ids
    keys = bib_keys()
    assert len(keys) > 10, "too few keys read from references.bib"
    assert not [k for k in keys if k not in anchors], "references without an entry on bibliography/"
    cited = cited_keys()
    assert cited, "no citations found in the data and essays"
    assert not sorted(cited - anchors), "cited keys without an entry on bibliography/"


def test_every_cited_in_backlink_resolves_to_a_page_that_cites_the_work(real_site):
    bibliography = real_site.path / "bibliography" / "index.html"
    backlinks = [link for link in parse_page(bibliography).links if link.in_cited_in]
    assert len(backlinks) > 50, "too few 'Cited in' links found on bibliography/"
    problems = []
    for link in backlinks:
        path, fragment = resolve(real_site, bibliography, link.target) or ("", "")
        target = site_file(real_site.path, path.removeprefix(urlsplit(real_site.url).path))
        where = f"{link.bib_entry}: cited in {link.target}"
        if not target.is_file():
            problems.append(f"{where}: no such page")
            continue
        page = parse_page(target)
        if fragment and fragment not in page.ids:
            problems.append(f"{where}: no id {fragment!r}")
        cites = {resolve(real_site, target, other.target) for other in page.links}
        if (urlsplit(real_site.url).path + "bibliography/", link.bib_entry) not in cites:
            problems.append(f"{where}: that page has no link to the entry")
    assert not problems, "\n".join(problems[:50])


def test_every_in_text_citation_links_to_its_entry(real_site):
    anchors = parse_page(real_site.path / "bibliography" / "index.html").ids
    bibliography = urlsplit(real_site.url).path + "bibliography/"
    problems = []
    count = 0
    for page in html_pages(real_site):
        for link in parse_page(page).links:
            if "cite" not in link.classes:
                continue
            count += 1
            path, fragment = resolve(real_site, page, link.target) or ("", "")
            if path != bibliography or fragment not in anchors or link.key != fragment:
                problems.append(f"{page.relative_to(real_site.path)}: a.cite {link.target} (key {link.key})")
    assert count > 100, "too few a.cite links found"
    assert not problems, "\n".join(problems[:50])


def test_every_in_text_citation_is_described_by_its_full_reference_once_on_its_page(real_site):
    bibliography = parse_page(real_site.path / "bibliography" / "index.html")
    problems = []
    count = 0
    for page in html_pages(real_site):
        parsed = parse_page(page)
        for link in parsed.links:
            if "cite" not in link.classes:
                continue
            count += 1
            where = f"{page.relative_to(real_site.path)}: a.cite {link.key}"
            # The element cite.js makes its description: the one it names (an essay's excerpt), else cite-KEY.
            described = link.described_by or f"cite-{link.key}"
            if parsed.id_counts.get(described) != 1:
                problems.append(
                    f"{where}: {parsed.id_counts.get(described, 0)} elements with id {described!r}"
                )
                continue
            # The page's copy of the reference is the bibliography's, word for word.
            text = " ".join(parsed.id_texts.get(described, "").split())
            full = " ".join(bibliography.bib_refs.get(link.key or "", "").split()).removesuffix(" ¶")
            if not text or text != full:
                problems.append(f"{where}: described by {text[:60]!r}, not its reference {full[:60]!r}")
    assert count > 100, "too few a.cite links found"
    assert not problems, "\n".join(problems[:50])


# --- Reproducible builds ----------------------------------------------------------------------------------------


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class _NextYear(dt.datetime):
    """A clock a year ahead: a second build "next year" must not differ from today's."""

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
        return dt.datetime.now(tz) + dt.timedelta(days=366)


def test_two_builds_of_the_same_sources_are_identical(real_site, tmp_path, monkeypatch):
    # The engine (ProperDocs, the default, as MkDocs) dates pages from its clock (sitemap <lastmod>, the .gz
    # header) unless SOURCE_DATE_EPOCH is set.
    monkeypatch.setattr(properdocs.utils, "datetime", _NextYear)
    again = tmp_path / "site"
    assert build_real_site(again, real_site.url) == 0
    first, second = tree_digest(real_site.path), tree_digest(again)
    differ = sorted(k for k in first.keys() | second.keys() if first.get(k) != second.get(k))
    assert not differ, f"{len(differ)} file(s) differ between two builds: {differ[:20]}"
    shutil.rmtree(again)


def test_no_page_loads_anything_from_another_host(real_site):
    # Readers' browsers must not contact third parties: no web fonts, scripts or images from a CDN.
    # (Links a reader may follow, and rel="canonical"/"alternate" hints, load nothing.)
    tag = re.compile(r"<(script|link|img|iframe|source|video|audio)\b[^>]*>", re.I)
    remote = re.compile(r'\b(?:src|href)="(?:https?:)?//', re.I)
    hint = re.compile(r'\brel="(?:canonical|alternate|edit)"', re.I)
    offenders = [
        (page.relative_to(real_site.path).as_posix(), match.group(0)[:120])
        for page in real_site.path.rglob("*.html")
        for match in tag.finditer(page.read_text(encoding="utf-8"))
        if remote.search(match.group(0)) and not hint.search(match.group(0))
    ]
    assert offenders == []


# --- Under a sub-path (a GitHub Pages project site) -------------------------------------------------------------


def test_every_link_and_anchor_resolves_under_a_sub_path(subpath_site):
    """Built for and served under a sub-path, no link climbs above it and every link and anchor resolves."""
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(subpath_site.url))
    root_path = urlsplit(subpath_site.url).path
    broken = []
    checked = 0
    for page in html_pages(subpath_site):
        for link in parse_page(page).links:
            absolute = urljoin(page_url(subpath_site, page), link.target)
            where = f"{page.relative_to(subpath_site.path)}: <{link.tag}> {link.target}"
            if not absolute.startswith(origin):
                continue
            if not absolute.startswith(subpath_site.url):
                broken.append(f"{where}: leaves the sub-path {root_path} ({absolute})")
                continue
            parts = urlsplit(absolute)
            target = site_file(subpath_site.path, parts.path.removeprefix(root_path))
            fragment = unquote(parts.fragment)
            checked += 1
            if not target.is_file():
                broken.append(f"{where}: no file {target.relative_to(subpath_site.path)}")
            elif fragment and target.suffix == ".html" and fragment not in parse_page(target).ids:
                broken.append(f"{where}: no id {fragment!r} in {target.relative_to(subpath_site.path)}")
    assert checked > 1000, "too few internal links found: is the parser reading the pages?"
    assert not broken, f"{len(broken)} broken link(s) under {root_path}:\n" + "\n".join(broken[:50])


def test_the_sub_path_server_answers_a_missing_page_with_the_404_page(subpath_site):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(subpath_site.url + "no/such/page/", timeout=30)
    assert missing.value.code == 404
    assert "Page not found" in missing.value.read().decode("utf-8")
    with urllib.request.urlopen(subpath_site.url + "terms/client/", timeout=30) as found:
        assert found.status == 200


# --- Orientation ------------------------------------------------------------------------------------------------


def test_developer_pages_are_out_of_the_readers_search(real_site):
    index = json.loads((real_site.path / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = [doc["location"] for doc in index["docs"]]
    assert any(loc.startswith("terms/") for loc in locations), "the search index has no label pages"
    assert not [loc for loc in locations if loc.startswith("developers/")]


def test_the_feed_is_linked_from_the_home_and_essays_pages_and_every_head(real_site):
    for path in ("index.html", "blog/index.html"):
        links = parse_page(real_site.path / path).links
        assert any(
            urljoin(page_url(real_site, real_site.path / path), link.target) == real_site.url + "feed.xml"
            for link in links
            if link.tag == "a"
        ), f"{path} does not link the feed"
    for page in html_pages(real_site):
        text = page.read_text(encoding="utf-8")
        assert '<link rel="alternate" type="application/atom+xml"' in text, page.relative_to(real_site.path)
