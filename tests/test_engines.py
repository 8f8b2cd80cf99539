"""The site engines: the registry, the ProperDocs/MkDocs adapter, the Zensical adapter, and the real site built
with each engine (the default engine's build must offer the same pages and links as the MkDocs build)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coguide.engines.base import DEFAULT_ENGINE, ENGINES, EngineUnavailable, get_engine
from coguide.outputs import MARKER
from coguide.tools.inventory import Inventory, compare, site_inventory
from conftest import ROOT, make_project, missing_tool

COGUIDE = [sys.executable, "-c", "import sys; from coguide.cli import main; sys.exit(main())"]
REPO = "https://example.org/guide/repo"
ESSAYS = len(list((ROOT / "docs" / "blog" / "posts").glob("*.md")))


def zensical_or_skip() -> None:
    """Skip (or, with CI set, fail) a test that needs Zensical where it is not installed."""
    if importlib.util.find_spec("zensical") is None:
        missing_tool("Zensical is not installed: `make setup` installs it (pip install -e '.[zensical]')")


def coguide(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the coguide command in a fresh process, as a user runs it."""
    env = {**os.environ, "COGUIDE_REPO_URL": REPO}
    return subprocess.run(
        [*COGUIDE, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900
    )


# --- The registry ------------------------------------------------------------------------------------------------


def test_properdocs_is_the_default_and_every_engine_is_registered():
    assert DEFAULT_ENGINE == "properdocs"
    assert {name: info.status for name, info in ENGINES.items()} == {
        "properdocs": "default",
        "mkdocs": "supported",
        "zensical": "experimental",
    }
    assert get_engine().name == "properdocs"
    assert get_engine("mkdocs").name == "mkdocs"


def test_an_unknown_engine_is_refused_with_the_choices():
    with pytest.raises(EngineUnavailable, match="choose one of properdocs, mkdocs, zensical"):
        get_engine("hugo")
    done = coguide("build", "--engine", "hugo")
    assert done.returncode == 2
    assert "invalid choice: 'hugo'" in done.stderr
    assert "Traceback" not in done.stderr


# --- The ProperDocs and MkDocs adapter on a small tree -----------------------------------------------------------

# Both engines in one process: the first builds in it, the second in a process of its own (after ProperDocs's
# redirect, `import mkdocs` gives ProperDocs); each reports the broken link with the page it is on.
_BOTH = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from coguide.engines.base import get_engine
    from coguide.engines.mkdocs import loaded_engine
    root = Path(sys.argv[1])
    out = {}
    for name in sys.argv[2:]:
        result = get_engine(name).build(root, root / "tree", root / ("site-" + name), strict=True)
        out[name] = {"ok": result.ok, "warnings": list(result.warnings), "loaded": loaded_engine()}
    broken = get_engine(sys.argv[2]).build(root, root / "broken", root / "site-broken", strict=True)
    out["broken"] = {"ok": broken.ok, "warnings": list(broken.warnings), "error": broken.error}
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    (root / "mkdocs.yml").write_text(
        "site_name: Small\nuse_directory_urls: true\ntheme:\n  name: material\nplugins:\n  - search\n",
        encoding="utf-8",
    )
    for tree, link in (("tree", "two.md"), ("broken", "missing.md")):
        (root / tree).mkdir()
        (root / tree / "index.md").write_text(f"# One\n\nSee [two]({link}).\n", encoding="utf-8")
        (root / tree / "two.md").write_text("# Two\n\nBack to [one](index.md).\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("order", [("properdocs", "mkdocs"), ("mkdocs", "properdocs")])
def test_both_engines_build_in_one_process_and_report_warnings_whole(small, order):
    done = subprocess.run(
        [sys.executable, "-c", _BOTH, str(small), *order], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for name in order:
        assert out[name]["ok"], out[name]
        assert out[name]["warnings"] == []
        assert (small / f"site-{name}" / "two" / "index.html").is_file()
        assert (small / f"site-{name}" / MARKER).is_file()  # the hooks ran
        # The hooks let a page's text go once it is written; the page built after still names it by its title.
        second = (small / f"site-{name}" / "two" / "index.html").read_text(encoding="utf-8")
        assert re.search(r'md-ellipsis">\s*One\s*</span>', second), name
        assert "<title>Two - Small</title>" in second
    # The first engine stays the one loaded here: the second ran in a process of its own.
    assert out[order[1]]["loaded"] == order[0]
    assert not out["broken"]["ok"]
    assert any("index.md" in w and "missing.md" in w for w in out["broken"]["warnings"]), out["broken"]


_STEPS = """
import json, sys
from pathlib import Path
from coguide.engines.base import get_engine
from coguide.engines.mkdocs import _STEPS, _import
engine = get_engine(sys.argv[2])
root = Path(sys.argv[1])
with engine.timed_steps() as steps:
    result = engine.build(root, root / "tree", root / ("steps-" + sys.argv[2]))
pages = _import(engine.package, "structure.pages")
restored = pages.Page.render.__qualname__ == "Page.render"
print(json.dumps({"ok": result.ok, "steps": steps, "restored": restored}))
"""


@pytest.mark.parametrize("name", ["properdocs", "mkdocs"])
def test_the_engine_s_own_steps_are_timed_and_its_functions_restored(small, name):
    done = subprocess.run(
        [sys.executable, "-c", _STEPS, str(small), name], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ok"] and out["restored"], out
    seconds = out["steps"]["seconds"]
    assert set(seconds) == {"read", "markdown", "populate", "build_pages", "search"}
    assert all(value > 0 for value in seconds.values()), seconds
    assert seconds["read"] + seconds["markdown"] < seconds["populate"]
    assert seconds["search"] < seconds["build_pages"]
    # Pages at the top of the tree count under their own names.
    assert set(out["steps"]["markdown_by_folder"]) == {"index.md", "two.md"}
    assert sum(out["steps"]["markdown_by_folder"].values()) == pytest.approx(seconds["markdown"], rel=1e-6)


def test_the_two_engines_sites_have_the_same_inventory(small):
    a, b = (site_inventory(small / f"site-{name}") for name in ("properdocs", "mkdocs"))
    assert "two/index.html" in a.pages
    assert ("index.html", "two/") in a.links
    assert compare(a, b) == []


# --- The inventory -----------------------------------------------------------------------------------------------


def test_inventory_resolves_links_against_their_page_and_finds_differences(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for site in (one, two):
        (site / "terms" / "client").mkdir(parents=True)
        (site / "index.html").write_text(
            '<a href="terms/client/">c</a><a href="https://example.org/">x</a><a href="#top">t</a>',
            encoding="utf-8",
        )
    (one / "terms" / "client" / "index.html").write_text(
        '<a href="../../">home</a><a href="../../bibliography/#booth2019">Booth</a>', encoding="utf-8"
    )
    (two / "terms" / "client" / "index.html").write_text(
        '<a href="../../index.html">home</a><a href="../../../bibliography/#booth2019">Booth</a>',
        encoding="utf-8",
    )
    a, b = site_inventory(one), site_inventory(two)
    assert a.pages == {"index.html", "terms/client/index.html"}
    assert a.links == {
        ("index.html", "terms/client/"),
        ("index.html", "#top"),
        ("terms/client/index.html", ""),
        ("terms/client/index.html", "bibliography/#booth2019"),
    }
    # "../../" and "../../index.html" are the same page; a link one level too high leaves the site.
    assert compare(a, b) == [
        "link only in the first build: terms/client/index.html -> bibliography/#booth2019",
        "link only in the second build: terms/client/index.html -> ../bibliography/#booth2019",
    ]
    assert compare(a, Inventory(pages=a.pages | {"x.html"}, links=a.links)) == [
        "page only in the second build: x.html"
    ]


def test_inventory_command_exits_1_on_a_difference_and_2_without_a_site(tmp_path, capsys):
    from coguide.tools.inventory import main

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "index.html").write_text("<p>a</p>", encoding="utf-8")
    assert main([str(tmp_path / "a"), str(tmp_path / "a")]) == 0
    assert main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    assert "page only in the first build: index.html" in capsys.readouterr().out
    assert main([str(tmp_path / "a"), str(tmp_path / "none")]) == 2
    assert "is not a folder: build the site first" in capsys.readouterr().err


# --- Zensical's diagnostics --------------------------------------------------------------------------------------


def test_zensical_diagnostics_keep_file_line_and_text():
    zensical_or_skip()
    from coguide.engines.zensical import diagnostics

    output = (
        "Build started\n"
        "\x1b[33mWarning:\x1b[0m page does not exist\n"
        "    \x1b[38;5;246m╭\x1b[0m\x1b[38;5;246m─\x1b[0m\x1b[38;5;246m[\x1b[0m about.md:12:83 \x1b[38;5;246m]\x1b[0m\n"
        "    │\n"
        " 12 │ see [Contributing](contributing/index.md).\n"
        "────╯\n"
        "Error: the configuration names no site\n"
        "1 issues found\n"
    )
    assert diagnostics(output) == [
        "about.md:12:83: warning: page does not exist",
        "error: the configuration names no site",
    ]


# --- The real site with every engine -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Build the real site once per engine (lazily), each in a fresh process as `coguide build` runs."""
    base = tmp_path_factory.mktemp("engines")
    built: dict[str, Path] = {}

    def build(engine: str) -> Path:
        if engine not in built:
            site = base / engine
            done = coguide("build", "--engine", engine, "--site-dir", str(site))
            assert done.returncode == 0, done.stderr[-3000:]
            assert f"coguide: {engine} " in done.stderr
            built[engine] = site
        return built[engine]

    return build


def test_default_build_has_the_same_pages_and_links_as_the_mkdocs_build(real):
    default, mkdocs = site_inventory(real(DEFAULT_ENGINE)), site_inventory(real("mkdocs"))
    # A real comparison: the guide's pages, with thousands of links among them.
    assert len(default.pages) > 150 and len(default.links) > 5000
    assert {
        "terms/client/index.html",
        "bibliography/index.html",
        "developers/api/index.html",
    } <= default.pages
    assert compare(default, mkdocs) == []


@pytest.mark.parametrize("engine", ["properdocs", "mkdocs"])
def test_record_pages_link_their_data_file_and_carry_json_ld(real, engine):
    page = (real(engine) / "terms" / "client" / "index.html").read_text(encoding="utf-8")
    assert f'href="{REPO}/blob/main/datapackage/terms.csv#L2"' in page
    assert '<script type="application/ld+json">' in page


def essay_pages(site: Path) -> list[Path]:
    return sorted(site.glob("blog/[0-9][0-9][0-9][0-9]/*/*/*/index.html"))


def test_zensical_builds_the_real_site_with_the_features_the_table_lists(real):
    zensical_or_skip()
    site = real("zensical")
    zen, default = site_inventory(site), site_inventory(real(DEFAULT_ENGINE))
    # Every page: records, generated indexes, the blog's index, archive and category pages, the API page.
    assert zen.pages == default.pages
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'class="md-tabs__link"' in home and 'href="terms/"' in home  # Material's tabs, our nav
    blog = (site / "blog" / "index.html").read_text(encoding="utf-8")
    assert blog.count('class="md-post ') == min(ESSAYS, 10)
    assert len(essay_pages(site)) == ESSAYS
    api = (site / "developers" / "api" / "index.html").read_text(encoding="utf-8")
    assert api.count("doc-heading") > 100 and "coguide.build" in api  # mkdocstrings' rendering
    record = (site / "terms" / "client" / "index.html").read_text(encoding="utf-8")
    assert '<script type="application/ld+json">' in record  # our theme override
    assert "Traceback" not in record and "[@" not in record
    search = json.loads((site / "search.json").read_text(encoding="utf-8"))
    locations = {item["location"] for item in search["items"]}
    assert {"terms/client/", "bibliography/"} <= locations
    assert (site / "feed.xml").read_bytes() == (real(DEFAULT_ENGINE) / "feed.xml").read_bytes()
    # Glossary links are Markdown links, which Zensical resolves as the other engines do.
    essay = essay_pages(site)[0].relative_to(site).as_posix()
    glossary = {t for p, t in zen.links if p == essay and t.startswith("terms/")}
    assert glossary and glossary == {t for p, t in default.links if p == essay and t.startswith("terms/")}


def test_zensical_still_moves_the_raw_html_citation_links_as_the_table_says(real):
    # Zensical rewrites relative links in raw HTML as if they were relative to the Markdown source, so the
    # citation links the generator writes for a record page's address climb out of the site (on index pages
    # they stay right); and it runs no hooks, so an essay's links, written from the site root, stay
    # unresolved. When this test fails, Zensical has changed: update the table on docs/developers/engines.md.
    zensical_or_skip()
    zen = site_inventory(real("zensical"))
    cites: dict[str, set[bool]] = {}
    for page, target in zen.links:
        if re.match(r"(\.\./)*bibliography/#", target):
            cites.setdefault(page.split("/")[0], set()).add(target.startswith("../"))
    # The labels index's short cells carry no citation, so every citation under terms/ is on a label's page
    # or on the compare page, neither at its source's folder.
    assert {section: cites.get(section) for section in ("terms", "cases", "debates")} == {
        "terms": {True},
        "cases": {True},
        "debates": {False},
    }
    essays = list((real("zensical") / "blog").glob("2026/*/*/*/index.html"))
    assert essays
    assert all('href="coguide-root:bibliography/#' in p.read_text(encoding="utf-8") for p in essays)


def test_zensical_builds_redirect_pages_but_no_edit_links_as_the_table_says(tmp_path):
    zensical_or_skip()
    root = make_project(tmp_path / "p", "renamed-id", full=True)
    done = coguide("--project", str(root), "build", "--engine", "zensical")
    assert done.returncode == 0, done.stderr[-3000:]
    site = root / "site"
    for alias in ("user", "service-users"):
        assert "../service-user/" in (site / "terms" / alias / "index.html").read_text(encoding="utf-8")
    # Our hooks set the edit links; Zensical runs no hooks, so with this repository address it shows none.
    for page in ("about", "terms/client"):
        assert 'rel="edit"' not in (site / page / "index.html").read_text(encoding="utf-8"), page
    assert not list(root.glob(".coguide-zensical-*.yml")), "the build's configuration was left behind"


def test_the_bibliography_back_links_and_bibtex_stay_out_of_every_search_index(real):
    # Zensical's per-field search limit stopped a 1,000-record build on them; they repeat searchable text.
    engines = [DEFAULT_ENGINE, "mkdocs"]
    if importlib.util.find_spec("zensical") is not None:
        engines.append("zensical")
    for engine in engines:
        site = real(engine)
        index = site / ("search.json" if engine == "zensical" else "search/search_index.json")
        data = json.loads(index.read_text(encoding="utf-8"))
        items = data["items"] if "items" in data else data["docs"]
        bibliography = [i["text"] for i in items if i["location"].startswith("bibliography/")]
        assert sum(len(text) for text in bibliography) > 10_000, engine  # the references are searchable
        assert not any("Cited in" in text or "@book{" in text for text in bibliography), engine
        # "Cite this page" and the printed header's "Cite as" line repeat on every page: no page is found by them.
        texts = [i["text"] for i in items]
        for boilerplate in ("Cite as:", "@inreference{", "TY  - ", "useauthor=false"):
            assert not [t for t in texts if boilerplate in t], (engine, boilerplate)
        assert any(i["location"].startswith("terms/client/") for i in items), engine


def test_the_hooks_let_a_page_s_text_go_once_written_except_the_blog_s():
    from types import SimpleNamespace

    from coguide.engines import mkdocs_hooks

    def page(src_uri: str) -> SimpleNamespace:
        return SimpleNamespace(
            file=SimpleNamespace(src_uri=src_uri), url=src_uri[:-3] + "/", markdown="# T\n", content=None
        )

    label, essay = page("terms/client.md"), page("blog/posts/one.md")
    for each in (label, essay):
        each.content = mkdocs_hooks.on_page_content("<h1>T</h1>", each, None, None)
    assert (label.markdown, essay.markdown) == ("", "# T\n")
    assert label.content == essay.content == "<h1>T</h1>"
    for each in (label, essay):
        mkdocs_hooks.on_post_page("<html></html>", each, None)
    assert (label.content, essay.content) == (None, "<h1>T</h1>")
