"""`coguide.tools.ci`: annotations on the lines at fault, and previews that open from disk."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from coguide.cli import build_site
from coguide.tools.ci import Annotation, disk_url, junit_annotations, make_preview


def test_a_failed_test_is_annotated_on_the_line_that_failed(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_demo.py").write_text(
        'def helper(x):\n    assert x == 2, "x is not two"\n\n\ndef test_one():\n    helper(1)\n\n\n'
        "def test_fine():\n    pass\n\n\ndef test_broken(missing_fixture):\n    pass\n"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            "/dev/null",
            "--rootdir",
            str(tmp_path),
            "-o",
            "junit_family=xunit1",
            "--junitxml",
            str(tmp_path / "r.xml"),
            "tests",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    found = list(junit_annotations((tmp_path / "r.xml").read_text(), tmp_path))
    assert [(a.file, a.line, a.title) for a in found] == [
        ("tests/test_demo.py", 2, "test failed: tests.test_demo.test_one"),
        ("tests/test_demo.py", 13, "test error: tests.test_demo.test_broken"),
    ]
    assert found[0].format() == (
        "::error file=tests/test_demo.py,line=2,title=test failed%3A tests.test_demo.test_one"
        "::AssertionError: x is not two%0Aassert 1 == 2"
    )


def build(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coguide.tools.ci", "build", "site"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def annotations(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("::")]


def test_a_failed_build_is_annotated_on_the_lines_at_fault(project):
    root = project("self-link", full=True)
    (root / "docs" / "about.md").write_text("# About\n\nSome text.\n\nA [broken link](no-such-page.md).\n")
    failed = build(root)
    assert failed.returncode == 1
    assert annotations(failed.stdout) == [
        "::error file=datapackage/concept_related.csv,line=3,title=coguide check%3A self-link"
        '::[self-link] "power" links to itself in field "related" (delete the link)'
    ]
    # Once the check passes, MkDocs's own complaint is put on the line with the broken link.
    (root / "datapackage" / "concept_related.csv").write_text("concept,related\nco-production,power\n")
    failed = build(root)
    assert failed.returncode == 1
    assert "WARNING -  Doc file 'about.md' contains a link 'no-such-page.md'" in failed.stderr
    (found,) = annotations(failed.stdout)
    assert found.startswith(
        "::error file=docs/about.md,line=5,title=MkDocs build::Doc file 'about.md' contains"
    )
    assert not (root / "site").exists()
    # And a build that works prints no annotation and leaves the site in place.
    (root / "docs" / "about.md").write_text("# About\n\nSome text.\n")
    built = build(root)
    assert (built.returncode, annotations(built.stdout)) == (0, [])
    assert (root / "site" / "index.html").is_file()


def test_annotations_escape_what_github_reads_as_syntax():
    annotation = Annotation(level="error", file="a,b:c.csv", line=3, title="t: x", message="50% done\nnext")
    assert annotation.format() == "::error file=a%2Cb%3Ac.csv,line=3,title=t%3A x::50%25 done%0Anext"


def test_disk_urls():
    assert disk_url("terms/client/") == "terms/client/index.html"
    assert disk_url("../terms/client/#history") == "../terms/client/index.html#history"
    assert disk_url(".") == "./index.html"
    assert disk_url("..") == "../index.html"
    assert disk_url("../..") == "../../index.html"
    # From a page one folder deep, a link two folders up means the root, as a web server reads it.
    assert disk_url("../../assets/editors.svg", depth=1) == "../assets/editors.svg"
    assert disk_url("../../assets/editors.svg", depth=2) == "../../assets/editors.svg"
    for unchanged in ("https://example.org/", "#top", "assets/coguide.css", "mailto:x@y.org", "//cdn/x/"):
        assert disk_url(unchanged) == unchanged


def test_the_preview_opens_from_disk(project, tmp_path):
    root = project("renamed-id", full=True)
    site = tmp_path / "site"
    assert build_site(root, site, verbose=False) == 0
    preview = tmp_path / "preview"
    assert make_preview(site, preview) > 0
    broken = []
    for page in preview.rglob("*.html"):
        if page.name == "404.html":
            continue  # a host's error page, with addresses from the site's root; never opened from disk
        for url in re.findall(r'\b(?:href|src)="([^"]*)"', page.read_text(encoding="utf-8")):
            if not url or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//|^#", url):
                continue
            target = (page.parent / url.split("#")[0].split("?")[0]).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(preview)} -> {url}")
    assert broken == []
    # A renamed record's old address still leads, from disk, to its page.
    old = (preview / "terms" / "service-users" / "index.html").read_text()
    assert 'url=../service-user/index.html"' in old
