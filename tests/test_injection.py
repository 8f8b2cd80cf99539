"""Script injection: payloads in every free-text field and in the .bib, through the check and the renderer.

The check must refuse raw HTML and unsafe links in Markdown fields and essays. The renderer must not depend on
it: the second half bypasses validation, builds a fixture site with each payload in every free-text field, and
reads every page (and the search index) for live markup.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

import coguide.build
from coguide.cli import build_site, main
from conftest import ROOT

#: The tables whose rows are records with pages or anchors.
RECORD_TABLES = ("terms", "concepts", "cases", "questions", "arguments")
#: Every marker starts with this, so that finding one in live markup names the payload and the field.
MARK = "xsszq"


@dataclass(frozen=True, kw_only=True)
class Payload:
    """One injection attempt: `text` with ``{m}`` where its marker goes, and the code the check must report."""

    name: str
    text: str
    code: str | None = None

    def fill(self, marker: str) -> str:
        """Return the payload with its marker in place."""
        return self.text.replace("{m}", marker)


PAYLOADS = (
    Payload(name="script-tag", text="<script>alert('{m}')</script>", code="raw-html"),
    Payload(name="script-src", text="<SCRIPT SRC=//evil.example/{m}.js></SCRIPT>", code="raw-html"),
    Payload(name="img-onerror", text="<img src=x onerror=\"alert('{m}')\">", code="raw-html"),
    Payload(name="svg-onload", text="<svg onload=\"alert('{m}')\">", code="raw-html"),
    # Not a tag to CommonMark or Python-Markdown (a quote in an unquoted value), so both print it as text.
    Payload(name="svg-onload-unquoted", text="<svg onload=alert('{m}')>"),
    Payload(name="svg-script", text="<svg><script>alert('{m}')</script></svg>", code="raw-html"),
    Payload(
        name="iframe-javascript", text="<iframe src=\"javascript:alert('{m}')\"></iframe>", code="raw-html"
    ),
    Payload(name="a-javascript", text="<a href=\"javascript:alert('{m}')\">{m}</a>", code="raw-html"),
    Payload(name="details-ontoggle", text="<details open ontoggle=alert('{m}')>", code="raw-html"),
    Payload(
        name="style-url",
        text="<style>*{background:url(\"javascript:alert('{m}')\")}</style>",
        code="raw-html",
    ),
    Payload(name="closing-script", text="</script><script>alert('{m}')</script>", code="raw-html"),
    Payload(name="closing-title", text="</title><script>alert('{m}')</script>", code="raw-html"),
    Payload(name="comment-breakout", text="--><script>alert('{m}')</script><!--", code="raw-html"),
    Payload(
        name="md-in-html", text="<div markdown=\"1\"><script>alert('{m}')</script></div>", code="raw-html"
    ),
    Payload(name="entity-script", text="&lt;script&gt;alert('{m}')&lt;/script&gt;"),
    Payload(name="numeric-entity-img", text="&#60;img src=x onerror=alert('{m}')&#62;"),
    Payload(name="link-javascript", text="[{m}](javascript:alert('{m}'))", code="unsafe-link"),
    Payload(name="link-mixed-case", text="[{m}](JaVaScRiPt:alert('{m}'))", code="unsafe-link"),
    Payload(name="link-entity-scheme", text="[{m}](&#106;avascript:alert('{m}'))", code="unsafe-link"),
    Payload(name="link-colon-entity", text="[{m}](javascript&colon;alert('{m}'))", code="unsafe-link"),
    Payload(name="link-angle", text="[{m}](<javascript:alert('{m}')>)", code="unsafe-link"),
    Payload(
        name="link-data",
        text="[{m}](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==#{m})",
        code="unsafe-link",
    ),
    Payload(name="link-vbscript", text="[{m}](vbscript:msgbox('{m}'))", code="unsafe-link"),
    Payload(name="image-javascript", text="![{m}](javascript:alert('{m}'))", code="unsafe-link"),
    Payload(name="autolink-javascript", text="<javascript:alert('{m}')>", code="unsafe-link"),
    Payload(
        name="reference-javascript",
        text="[{m}][evil-{m}]\n\n[evil-{m}]: javascript:alert('{m}')",
        code="unsafe-link",
    ),
    Payload(
        name="image-title-breakout", text='![{m}](https://example.org/x.png "a\\" onerror=\\"alert(\'{m}\')")'
    ),
    Payload(
        name="link-title-breakout", text='[{m}](https://example.org/ "a\\" onmouseover=\\"alert(\'{m}\')")'
    ),
    Payload(name="double-quote-breakout", text='" onmouseover="alert(\'{m}\')" x="'),
    Payload(name="single-quote-breakout", text="' onfocus='alert(`{m}`)' autofocus x='"),
    Payload(name="attr-list", text="{m} { onclick=\"alert('{m}')\" } {: onclick=\"alert('{m}')\" }"),
    Payload(name="abbr-definition", text="*[{m}]: <script>alert('{m}')</script>", code="raw-html"),
    Payload(name="jinja", text="{{ config.site_name }}{% if 1 %}{m}{% endif %}"),
    Payload(
        name="front-matter-breakout",
        text="\"\n---\ntitle: {m}\n---\n<script>alert('{m}')</script>",
        code="raw-html",
    ),
)

#: Payloads a URL field's pattern (``^https?://[^\\s<>"]+$``) lets through.
URL_PAYLOADS = (
    Payload(name="url-quote", text="https://example.org/'onmouseover='alert(`{m}`)'"),
    Payload(name="url-scheme-in-path", text="https://example.org/javascript:alert('{m}')"),
    Payload(name="url-entities", text="https://example.org/?a=&quot;onmouseover=&quot;alert('{m}')"),
)

#: Payloads a BibTeX title can hold (no braces, backslashes or percent signs).
BIB_PAYLOADS = (
    Payload(name="bib-script", text="<script>alert('{m}')</script>"),
    Payload(name="bib-img", text="<img src=x onerror=\"alert('{m}')\">"),
    Payload(name="bib-closing-script", text="</script><script>alert('{m}')</script>"),
    Payload(name="bib-quote-breakout", text='" onmouseover="alert(\'{m}\')" x="'),
    Payload(name="bib-entity", text="&lt;script&gt;alert('{m}')&lt;/script&gt;"),
    Payload(name="bib-md-link", text="[{m}](javascript:alert('{m}'))"),
)


def _schemas() -> dict[str, list[dict]]:
    descriptor = json.loads((ROOT / "datapackage" / "datapackage.json").read_text(encoding="utf-8"))
    return {r["name"]: r.get("schema", {}).get("fields", []) for r in descriptor["resources"]}


def _admits(field: dict, sample: str) -> bool:
    pattern = field.get("constraints", {}).get("pattern")
    return pattern is None or re.search(pattern, sample) is not None


def free_text_columns(table: str) -> list[str]:
    """Return the columns where the schema lets a contributor write markup: strings, not ids, enums or slugs."""
    return [
        f["name"]
        for f in _schemas()[table]
        if f.get("type", "string") == "string"
        and f["name"] != "id"
        and "enum" not in f.get("constraints", {})
        and _admits(f, "a <b> c?")
    ]


def url_columns(table: str) -> list[str]:
    """Return the columns that hold a web address."""
    return [
        f["name"]
        for f in _schemas()[table]
        if f.get("type", "string") == "string"
        and not _admits(f, "a <b> c?")
        and _admits(f, "https://example.org/")
        and f["name"] != "id"
    ]


def markdown_columns(table: str) -> list[str]:
    """Return the columns the data dictionary documents as Markdown: the ones the check must guard."""
    return [f["name"] for f in _schemas()[table] if "Markdown" in f.get("description", "")]


def test_the_columns_are_found():
    # Guards the derivations above: a schema change must not silently empty the lists the tests rely on.
    assert {"label", "definition", "relationship", "era", "critiques"} <= set(free_text_columns("terms"))
    assert {"title", "country", "summary", "outcomes"} <= set(free_text_columns("cases"))
    assert {"question", "summary"} <= set(free_text_columns("questions"))
    assert {"claim", "reasoning", "proponent"} <= set(free_text_columns("arguments"))
    assert url_columns("cases") == ["source_url"]
    assert "id" not in free_text_columns("concepts") and "aliases" not in free_text_columns("concepts")
    assert all(markdown_columns(t) for t in RECORD_TABLES)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def fill_table(
    root: Path, table: str, columns: list[str], value: Callable[[str, str, str], str]
) -> list[tuple[str, str, str]]:
    """Set `columns` of every row of `table` to ``value(table, row_id, column)``; return the cells changed."""
    path = root / "datapackage" / f"{table}.csv"
    header, rows = read_rows(path)
    cells = []
    for row in rows:
        for column in columns:
            row[column] = value(table, row["id"], column)
            cells.append((table, row["id"], column))
    write_rows(path, header, rows)
    return cells


# --- The check ------------------------------------------------------------------------------------------------

_PROBLEM = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+): \[(?P<code>[a-z-]+)\] (?P<field>\w+): ", re.MULTILINE
)


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if p.code], ids=lambda p: p.name)
def test_check_refuses_the_payload_in_every_markdown_field(project, capsys, payload):
    root = project()
    expected = set()
    for table in RECORD_TABLES:
        for _table, row_id, column in fill_table(
            root, table, markdown_columns(table), lambda *_: payload.fill(f"{MARK}check")
        ):
            expected.add((f"datapackage/{table}.csv", row_id, column))
    assert main(["--project", str(root), "check"]) == 1
    found = defaultdict(set)
    for match in _PROBLEM.finditer(capsys.readouterr().out):
        if match["code"] == payload.code:
            found[(match["path"], match["field"])].add(int(match["line"]))
    rows_per_table = {path: len({r for p, r, _c in expected if p == path}) for path, _r, _c in expected}
    missing = sorted(
        {
            (path, column)
            for path, _row, column in expected
            if len(found[(path, column)]) < rows_per_table[path]
        }
    )
    assert not missing, f"`coguide check` did not report [{payload.code}] in every row of: {missing}"


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if p.code], ids=lambda p: p.name)
def test_check_refuses_the_payload_in_an_essay(project, capsys, payload):
    # Essays go through Python-Markdown, which passes raw HTML on: for them the check is the only guard.
    root = project()
    essay = root / "docs" / "blog" / "posts" / "a-fixture-essay.md"
    essay.write_text(
        essay.read_text(encoding="utf-8") + "\n" + payload.fill(f"{MARK}essay") + "\n", encoding="utf-8"
    )
    assert main(["--project", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"^docs/blog/posts/a-fixture-essay\.md:\d+: \[{payload.code}\] ", out, re.MULTILINE), (
        out
    )


# --- The renderer, with the check bypassed ----------------------------------------------------------------------

URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "data",
        "poster",
        "background",
        "cite",
        "ping",
        "srcset",
        "lowsrc",
        "dynsrc",
        "codebase",
    }
)
FORBIDDEN_TAGS = frozenset({"iframe", "object", "embed", "base", "frame", "frameset", "applet", "portal"})
UNSAFE_SCHEME = re.compile(r"^(javascript|vbscript|data|livescript):", re.IGNORECASE)
MARKER = re.compile(MARK + r"\d+")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


class LiveMarkupFinder(HTMLParser):
    """Collect every piece of live markup a page holds that could run script, and every marker it shows.

    Markers shown as text or inside harmless attribute values are the payloads arriving safely; a marker in a
    script, a style, an event handler or a link target is a payload that would run.
    """

    def __init__(self, where: str) -> None:
        super().__init__(convert_charrefs=True)
        self.where = where
        self.problems: list[str] = []
        self.seen: set[str] = set()
        self._raw: tuple[str, dict[str, str | None]] | None = None
        self._raw_text: list[str] = []

    def _problem(self, what: str) -> None:
        self.problems.append(f"{self.where}: {what}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, attrs)
        if tag in ("script", "style"):
            self._raw = (tag, dict(attrs))
            self._raw_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_tag(tag, attrs)

    def _check_tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self._problem(f"<{tag}> element")
        for name, value in attrs:
            value = value or ""
            self.seen.update(MARKER.findall(value))
            if name.startswith("on"):
                self._problem(f"<{tag} {name}={value[:60]!r}> event handler")
            elif name in URL_ATTRIBUTES and UNSAFE_SCHEME.match(_INVISIBLE.sub("", value)):
                self._problem(f"<{tag} {name}={value[:60]!r}> script URL")
            elif name in ("style", "srcdoc") and MARK in value:
                self._problem(f"<{tag} {name}={value[:60]!r}> payload in {name}")
            elif name == "http-equiv" and value.lower() == "refresh":
                self._problem(f"<{tag} http-equiv=refresh>")
        if tag == "script":
            src = dict(attrs).get("src")
            if src is not None and ("assets/" not in src or "//" in src or MARK in src):
                self._problem(f"<script src={src!r}> not one of the site's own scripts")

    def handle_data(self, data: str) -> None:
        if self._raw is not None:
            self._raw_text.append(data)
        else:
            self.seen.update(MARKER.findall(data))

    def handle_endtag(self, tag: str) -> None:
        if self._raw is None or tag != self._raw[0]:
            return
        kind, attrs = self._raw
        body = "".join(self._raw_text)
        self._raw = None
        if kind == "script" and attrs.get("type") in ("application/ld+json", "application/json"):
            # Data, not code: payloads may sit in its strings as long as none broke out of the JSON.
            try:
                json.loads(body)
            except ValueError:
                self._problem(f"<script type={attrs['type']}> is not valid JSON: {body.strip()[:80]!r}")
        elif MARK in body:
            self._problem(f"payload inside <{kind}>: {body.strip()[:80]!r}")


def find_live_markup(html: str, where: str) -> LiveMarkupFinder:
    """Parse one HTML text; return the finder with its problems and the markers it saw."""
    finder = LiveMarkupFinder(where)
    finder.feed(html)
    finder.close()
    return finder


def test_the_finder_catches_live_markup():
    # The finder is the whole of the render test's judgement, so it is tested on what it must catch.
    bad = {
        "<script>alert('xsszq1')</script>": "payload inside <script>",
        "<img src=x onerror=alert(1)>": "event handler",
        "<a href=' jav\tascript:alert(1)'>x</a>": "script URL",
        "<a href='data:text/html,x'>x</a>": "script URL",
        "<svg><script>alert('xsszq2')</script></svg>": "payload inside <script>",
        "<iframe srcdoc='x'></iframe>": "<iframe> element",
        "<script src='https://evil.example/x.js'></script>": "not one of the site's own scripts",
        '<script type="application/ld+json">{"name": "</script><script>alert(1)</script>"}': "not valid JSON",
        "<p style=\"background:url('xsszq3')\">": "payload in style",
    }
    for html, problem in bad.items():
        found = find_live_markup(html, "t").problems
        assert any(problem in p for p in found), (html, found)
    ok = find_live_markup(
        "<p title=\"&quot; onmouseover=&quot;alert('xsszq4')\">&lt;script&gt;xsszq5</p>"
        '<script src="../assets/javascripts/bundle.js"></script>'
        '<script type="application/ld+json">{"name": "\\u003cscript\\u003e xsszq6"}</script>',
        "t",
    )
    assert ok.problems == [] and ok.seen == {"xsszq4", "xsszq5"}


def add_records(root: Path, table: str, fill: Callable[[str, str, str], str], count: int) -> None:
    """Append `count` copies of the table's first row, each with a new id and its free-text cells from `fill`.

    One payload per record keeps every cell the length of a real one, so that the test is about markup and
    not about what the renderer does with a field far longer than its schema allows.
    """
    path = root / "datapackage" / f"{table}.csv"
    header, rows = read_rows(path)
    for n in range(count):
        row = dict(rows[0], id=f"injected-{n:02d}")
        for column in free_text_columns(table) + url_columns(table):
            row[column] = fill(table, row["id"], column)
        if "aliases" in row:
            row["aliases"] = ""
        rows.append(row)
    write_rows(path, header, rows)


@pytest.fixture(scope="module")
def injected_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, tuple[str, str, str, str]]]:
    """Build a fixture site with each payload in every free-text field, URL field and .bib title, unchecked.

    Each record table gets one new record per payload, every free-text field of which holds that payload;
    the bibliography gets one work per .bib payload, cited from an essay and from a label.

    Returns:
        The built site and, for each marker, the (table, record, column, payload) it was put in.
    """
    from conftest import make_project

    root = make_project(tmp_path_factory.mktemp("injected") / "project", full=True)
    where: dict[str, tuple[str, str, str, str]] = {}

    def mark(table: str, record: str, column: str, payload: Payload) -> str:
        marker = f"{MARK}{len(where):04d}"
        where[marker] = (table, record, column, payload.name)
        return payload.fill(marker)

    def payload_of(table: str, record: str, column: str) -> str:
        n = int(record.rsplit("-", 1)[1])
        if column in url_columns(table):
            return mark(table, record, column, URL_PAYLOADS[n % len(URL_PAYLOADS)])
        return mark(table, record, column, PAYLOADS[n])

    for table in RECORD_TABLES:
        add_records(root, table, payload_of, len(PAYLOADS))

    data = root / "datapackage"
    keys = [f"injected-{n}" for n in range(len(BIB_PAYLOADS))]
    entries = [
        f"@article{{{key},\n  author = {{Doe, Jane}},\n  title = {{{mark('references', key, 'title', p)}}},\n"
        f"  journal = {{Journal}},\n  year = {{2020}}\n}}\n"
        for key, p in zip(keys, BIB_PAYLOADS, strict=True)
    ]
    with (data / "references.bib").open("a", encoding="utf-8") as bib:
        bib.write("\n" + "\n".join(entries))
    with (data / "citations.csv").open("a", encoding="utf-8") as citations:
        citations.writelines(f"terms,client,{key},\n" for key in keys)
    essay = root / "docs" / "blog" / "posts" / "a-fixture-essay.md"
    cites = "; ".join(f"@{key}" for key in keys)
    essay.write_text(
        essay.read_text(encoding="utf-8") + f"\nWorks with odd titles [{cites}].\n", encoding="utf-8"
    )

    site = root / "site"
    with pytest.MonkeyPatch.context() as patch:
        # The check refuses these payloads (tested above); the renderer must be safe without it.
        validate = coguide.build.validate_sources
        patch.setattr(
            coguide.build,
            "validate_sources",
            lambda sources, **options: replace(validate(sources, **options), problems=[]),
        )
        assert build_site(root, site, verbose=False) == 0, "the site with payloads did not build"
    return site, where


def test_no_payload_is_live_markup(injected_site):
    site, _where = injected_site
    problems: list[str] = []
    for page in sorted(site.rglob("*.html")):
        problems += find_live_markup(page.read_text(encoding="utf-8"), str(page.relative_to(site))).problems
    problems = list(dict.fromkeys(problems))
    assert not problems, f"{len(problems)} pieces of live markup from data:\n" + "\n".join(problems[:40])


def test_no_payload_is_live_markup_in_search_results(injected_site):
    # Material's search shows each entry's title and text as HTML, so the index must hold escaped text.
    site, _where = injected_site
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    for doc in index["docs"]:
        for key in ("title", "text"):
            problems += find_live_markup(doc.get(key, ""), f"search index {doc['location']} {key}").problems
    assert not problems, "live markup in the search index:\n" + "\n".join(problems[:40])


def test_every_field_reaches_a_page(injected_site):
    # Without this, a field that never reached a page would make the tests above pass for nothing.
    site, where = injected_site
    seen: set[str] = set()
    for page in site.rglob("*.html"):
        seen |= find_live_markup(page.read_text(encoding="utf-8"), "").seen
    shown = defaultdict(set)
    for marker, (table, _row, column, payload) in where.items():
        if marker in seen:
            shown[(table, column)].add(payload)
    silent = sorted(
        {(table, column) for table, _row, column, _p in where.values() if not shown[(table, column)]}
    )
    assert not silent, f"no payload in these fields reached any page: {silent}"
