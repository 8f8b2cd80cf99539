"""Hostile pull requests: every entrance into the site refuses what it must, with file, line, code and hint.

Each case below changes one file of a fixture project the way an untrusted contributor could (symlinks,
pipes, URLs and paths in the descriptor, a schema without its key, front matter, pages and files under docs/,
the engine configuration). `coguide check` must fail with the expected problem and print no traceback, never
echo what lies outside the project, and never open a network connection; the build must fail the same way
and leave the previous site/ byte for byte as it was.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import markdown
import pytest

from coguide.cli import main
from coguide.source.load import load_project
from coguide.source.validate import validate_project

T = "datapackage/terms.csv"
ESSAY = "docs/blog/posts/a-fixture-essay.md"
DESCRIPTOR = "datapackage/datapackage.json"
#: What the secret file outside the project holds; it must never appear in any output or page.
SECRET = "s3cret-token-outside-the-project"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that tries to open a network connection (the check and build never fetch)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@dataclass(frozen=True)
class Case:
    name: str
    change: Callable[[Path, Path], None]  # (project root, a secret file outside it)
    expected: tuple[str, int | None, str]  # (path, line, code)


def _descriptor(root: Path, edit: Callable[[dict], None]) -> None:
    path = root / DESCRIPTOR
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2))


def _resource(data: dict, name: str) -> dict:
    return next(r for r in data["resources"] if r["name"] == name)


def _replace_with_link(root: Path, rel: str, target: Path) -> None:
    (root / rel).unlink()
    (root / rel).symlink_to(target)


def _front_matter(root: Path, old: str, new: str) -> None:
    path = root / ESSAY
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _id_pattern_dropped(root: Path, _secret: Path) -> None:
    def edit(data: dict) -> None:
        for field in _resource(data, "terms")["schema"]["fields"]:
            field.get("constraints", {}).pop("pattern", None)

    _descriptor(root, edit)
    path = root / T
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("client,", "../../../escaped,", 1)
    path.write_text("".join(lines))


def _alias_reserved(root: Path, _secret: Path) -> None:
    path = root / T
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("aliases")] = "index"
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _model_field_retyped(root: Path, _secret: Path) -> None:
    def edit(data: dict) -> None:
        next(f for f in _resource(data, "terms")["schema"]["fields"] if f["name"] == "era_start")["type"] = (
            "string"
        )

    _descriptor(root, edit)


def _primary_key_dropped(root: Path, _secret: Path) -> None:
    _descriptor(root, lambda d: _resource(d, "terms")["schema"].pop("primaryKey"))


CASES = (
    # 1-2. Ids become paths only through the generator's own rule, whatever the descriptor says.
    Case("id-pattern-dropped", _id_pattern_dropped, (T, 2, "invalid-id")),
    Case("alias-reserved-name", _alias_reserved, (T, 5, "invalid-id")),
    Case("primary-key-dropped", _primary_key_dropped, (DESCRIPTOR, 16, "descriptor-contract")),
    Case("model-field-retyped", _model_field_retyped, (DESCRIPTOR, 16, "descriptor-contract")),
    # 3. Essay front matter.
    Case(
        "date-that-does-not-exist",
        lambda r, s: _front_matter(r, "date: 2026-01-05", "date: 2026-02-30"),
        (ESSAY, 2, "front-matter"),
    ),
    Case(
        "date-in-words",
        lambda r, s: _front_matter(r, "date: 2026-01-05", "date: next tuesday"),
        (ESSAY, 2, "front-matter"),
    ),
    Case(
        "unknown-author",
        lambda r, s: _front_matter(r, "  - editors", "  - somebody-else"),
        (ESSAY, 3, "unknown-author"),
    ),
    Case(
        "javascript-link-in-front-matter",
        lambda r, s: _front_matter(
            r, "description:", "links:\n  - Home: javascript:alert(document.cookie)\ndescription:"
        ),
        (ESSAY, 7, "unknown-front-matter"),
    ),
    Case(
        "quote-breaking-out-of-description",
        lambda r, s: _front_matter(
            r,
            "description: A fixture essay.",
            'description: \'x"><meta http-equiv="refresh" content="0;url=https://evil.example">\'',
        ),
        (ESSAY, 7, "front-matter"),
    ),
    Case(
        "theme-key-in-front-matter",
        lambda r, s: _front_matter(r, "description:", "template: ../../../etc/passwd\ndescription:"),
        (ESSAY, 7, "unknown-front-matter"),
    ),
    Case(
        "control-character-in-category",
        lambda r, s: _front_matter(r, "  - Labels", '  - "Lab\\u0007els"'),
        (ESSAY, 5, "front-matter"),
    ),
    # 4. Other pages and files under docs/.
    Case(
        "raw-html-in-a-new-page",
        lambda r, s: (r / "docs" / "notes.md").write_text("# Notes\n\nText.\n\n<script>alert(1)</script>\n"),
        ("docs/notes.md", 5, "raw-html"),
    ),
    Case(
        "javascript-link-in-a-new-page",
        lambda r, s: (r / "docs" / "notes.md").write_text("# Notes\n\n[x](javascript:alert(1))\n"),
        ("docs/notes.md", 3, "unsafe-link"),
    ),
    Case(
        "front-matter-of-a-new-page",
        lambda r, s: (r / "docs" / "notes.md").write_text("---\nsubtitle: <b>x</b>\n---\n# Notes\n"),
        ("docs/notes.md", 2, "unknown-front-matter"),
    ),
    Case(
        "html-file-in-docs",
        lambda r, s: (r / "docs" / "page.html").write_text("<script>alert(1)</script>"),
        ("docs/page.html", None, "unexpected-file"),
    ),
    Case(
        "script-in-an-svg",
        lambda r, s: (r / "docs" / "figure.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg">\n<rect onload="alert(1)"/></svg>'
        ),
        ("docs/figure.svg", 2, "unexpected-file"),
    ),
    Case(
        "javascript-outside-assets",
        lambda r, s: (r / "docs" / "blog" / "x.js").write_text("alert(1)"),
        ("docs/blog/x.js", None, "unexpected-file"),
    ),
    Case(
        "hand-written-page-over-a-record-page",
        lambda r, s: (
            (r / "docs" / "terms").mkdir(parents=True, exist_ok=True)
            or (r / "docs" / "terms" / "client.md").write_text("# Client\n\nNot what the data says.\n")
        ),
        ("docs/terms/client.md", None, "unexpected-file"),
    ),
    Case(
        "hand-written-page-over-a-generated-developer-page",
        lambda r, s: (
            (r / "docs" / "developers").mkdir(parents=True, exist_ok=True)
            or (r / "docs" / "developers" / "data-dictionary.md").write_text("# Data\n\nMine.\n")
        ),
        ("docs/developers/data-dictionary.md", None, "unexpected-file"),
    ),
    Case(
        "include-extension-in-config",
        lambda r, s: (r / "mkdocs.yml").write_text(
            "site_name: x\nmarkdown_extensions:\n  - pymdownx.snippets:\n      base_path: [.]\n"
        ),
        ("mkdocs.yml", 3, "unsafe-config"),
    ),
    Case(
        "extra-hooks-in-config",
        lambda r, s: (r / "mkdocs.yml").write_text("site_name: x\nhooks:\n  - evil.py\n"),
        ("mkdocs.yml", 3, "unsafe-config"),
    ),
    Case(
        "remote-script-in-config",
        lambda r, s: (r / "mkdocs.yml").write_text(
            "site_name: x\nextra_javascript:\n  - https://cdn.example/x.js\n"
        ),
        ("mkdocs.yml", 3, "unsafe-config"),
    ),
    # 5. Symlinks and URLs in the package and under docs/.
    Case("table-linked-outside", lambda r, s: _replace_with_link(r, T, s), (T, None, "unsafe-path")),
    Case(
        "table-linked-inside",
        lambda r, s: _replace_with_link(r, T, r / "datapackage" / "concepts.csv"),
        (T, None, "unsafe-path"),
    ),
    Case(
        "bibliography-linked-to-environment",
        lambda r, s: _replace_with_link(r, "datapackage/references.bib", Path("/proc/self/environ")),
        ("datapackage/references.bib", None, "unsafe-path"),
    ),
    Case(
        "essay-linked-outside",
        lambda r, s: (r / "docs" / "leak.md").symlink_to(s),
        ("docs/leak.md", None, "unsafe-path"),
    ),
    Case(
        "docs-folder-linked-outside",
        lambda r, s: (r / "docs" / "more").symlink_to(s.parent, target_is_directory=True),
        ("docs/more", None, "unsafe-path"),
    ),
    Case(
        "resource-path-is-a-url",
        lambda r, s: _descriptor(
            r, lambda d: _resource(d, "terms").update(path="https://example.invalid/t.csv")
        ),
        (DESCRIPTOR, 17, "unsafe-path"),
    ),
    Case(
        "resource-path-is-absolute",
        lambda r, s: _descriptor(r, lambda d: _resource(d, "terms").update(path=str(s))),
        (DESCRIPTOR, 17, "unsafe-path"),
    ),
    Case(
        "resource-path-climbs-out",
        lambda r, s: _descriptor(r, lambda d: _resource(d, "terms").update(path="../../secret.txt")),
        (DESCRIPTOR, 17, "unsafe-path"),
    ),
    Case(
        "schema-is-a-url",
        lambda r, s: _descriptor(
            r, lambda d: _resource(d, "terms").update(schema="https://example.invalid/s.json")
        ),
        (DESCRIPTOR, 24, "unsafe-path"),
    ),
    Case(
        "resource-is-a-path",
        lambda r, s: _descriptor(r, lambda d: d["resources"].insert(0, "https://example.invalid/r.json")),
        (DESCRIPTOR, 15, "unsafe-path"),
    ),
    # 8. Files that are not files.
    Case("table-is-a-fifo", lambda r, s: (r / T).unlink() or os.mkfifo(r / T), (T, None, "not-a-file")),
    Case(
        "page-is-a-fifo",
        lambda r, s: os.mkfifo(r / "docs" / "pipe.md"),
        ("docs/pipe.md", None, "not-a-file"),
    ),
)


def _project_with_secret(project, tmp_path: Path) -> tuple[Path, Path]:
    root = project()
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(f"id,label\n{SECRET},x\n")
    return root, secret


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_refuses_with_file_line_code_and_hint(case, project, tmp_path, capsys):
    root, secret = _project_with_secret(project, tmp_path)
    case.change(root, secret)
    problems = validate_project(load_project(root))
    found = [(p.path, p.line, p.code) for p in problems]
    assert case.expected in found
    problem = next(p for p in problems if (p.path, p.line, p.code) == case.expected)
    assert problem.severity == "error"
    assert problem.hint, problem.format()
    assert main(["--project", str(root), "check", "--format", "github"]) == 1
    out = capsys.readouterr()
    assert f"file={case.expected[0]}" in out.out
    assert SECRET not in out.out + out.err
    assert "Traceback" not in out.out + out.err


@pytest.mark.parametrize(
    "name", ["id-pattern-dropped", "table-linked-outside", "resource-path-is-a-url", "table-is-a-fifo"]
)
def test_build_refuses_and_keeps_the_previous_site(name, project, tmp_path, capsys):
    case = next(c for c in CASES if c.name == name)
    root = project(full=True)
    secret = tmp_path / "outside.csv"
    secret.write_text(f"id,label\n{SECRET},x\n")
    assert main(["--project", str(root), "build"]) == 0
    before = _digest(root / "site")
    case.change(root, secret)
    assert main(["--project", str(root), "build"]) == 1
    out = capsys.readouterr()
    assert case.expected[2] in out.out
    assert _digest(root / "site") == before
    assert not (tmp_path / "escaped").exists()
    assert not list(tmp_path.glob("**/escaped*"))
    assert SECRET not in out.out + out.err


def test_an_include_directive_is_inert_text(project, capsys):
    root = project(full=True)
    essay = root / ESSAY
    essay.write_text(essay.read_text() + '\n--8<-- "datapackage/terms.csv"\n')
    assert main(["--project", str(root), "build"]) == 0
    page = next((root / "site" / "blog").glob("**/a-fixture-essay/index.html")).read_text()
    assert "--8&lt;--" in page or "--8<--" in page
    assert "also_known_as" not in page  # the header row of terms.csv was not pulled in


def test_contributing_page_is_generated_from_contributing_md(project):
    root = project(full=True)
    (root / "CONTRIBUTING.md").write_text("# Contributing\n\nA line only this test writes.\n")
    assert main(["--project", str(root), "build"]) == 0
    page = (root / "site" / "contributing" / "index.html").read_text()
    assert "A line only this test writes." in page
    assert not (root / "docs" / "contributing" / "index.md").exists()


def test_raw_html_in_contributing_md_is_refused(project):
    root = project()
    (root / "CONTRIBUTING.md").write_text("# Contributing\n\n<iframe src=x></iframe>\n")
    found = [(p.path, p.line, p.code) for p in validate_project(load_project(root))]
    assert ("CONTRIBUTING.md", 3, "raw-html") in found


def test_too_many_errors_are_counted_not_silently_cut(project):
    root = project()
    path = root / "datapackage" / "questions.csv"
    header = path.read_text().splitlines()[0]
    path.write_text(header + "\n" + "".join(f"Bad Id {i},q,s\n" for i in range(1200)))
    problems = validate_project(load_project(root))
    truncated = [p for p in problems if p.code == "errors-truncated"]
    assert [(p.path, p.severity) for p in truncated] == [("datapackage/questions.csv", "error")]
    assert "1,000" in truncated[0].message


def test_a_problem_never_echoes_more_than_a_short_excerpt(project, tmp_path):
    root = project()
    path = root / T
    lines = path.read_text().splitlines(keepends=True)
    long_value = "X" * 5000 + SECRET
    lines[1] = lines[1].replace("client,", f"{long_value},", 1)
    path.write_text("".join(lines))
    problems = validate_project(load_project(root))
    assert problems
    assert all(len(p.format()) < 800 for p in problems)
    assert not any(SECRET in p.format() for p in problems)


# --- The Markdown flag is the descriptor's to set, and safety does not depend on it ---------------------------------

HOSTILE_MARKDOWN = "<script>alert(1)</script> *loud* [x](javascript:alert(1)) [@needham2008]"


def _set_cell(root: Path, rel: str, record: str, field: str, value: str) -> None:
    path = root / rel
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    row = next(r for r in rows[1:] if r[0] == record)
    row[rows[0].index(field)] = value
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _flag(root: Path, resource: str, field: str, on: bool) -> None:
    def edit(data: dict) -> None:
        spec = next(f for f in _resource(data, resource)["schema"]["fields"] if f["name"] == field)
        if on:
            spec["coguide:markdown"] = True
        else:
            spec.pop("coguide:markdown", None)

    _descriptor(root, edit)


def test_a_markdown_field_stripped_of_its_flag_is_still_rendered_safely(project, tmp_path):
    """Dropping the flag skips the markup check, but the page still goes through the safe renderer."""
    from coguide.build import generate

    root = project()
    _set_cell(root, T, "client", "definition", HOSTILE_MARKDOWN)
    assert "unsafe-markup" in {p.code for p in validate_project(load_project(root))} or any(
        p.field == "definition" for p in validate_project(load_project(root))
    )
    _flag(root, "terms", "definition", on=False)
    assert all(p.field != "definition" for p in validate_project(load_project(root)))
    result = generate(root, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    # The body, after the front matter (whose structured data the theme writes out as escaped JSON).
    body = (tmp_path / "out" / "terms" / "client.md").read_text().split("\n---\n", 1)[1]
    assert "<script" not in body
    assert "&lt;script&gt;" in body
    # The refused link is left as text, in raw HTML the engine's Markdown pass leaves alone.
    html = markdown.markdown(body, extensions=["md_in_html", "attr_list"])
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "<em>loud</em>" in html  # it was still rendered as Markdown, by the safe renderer
    assert "definition" not in result.site.terms["client"].text_fields


def test_a_descriptor_without_markdown_flags_is_warned_about(project):
    """An older descriptor builds safely, but check says its texts' citations are no longer read."""
    root = project()
    _flag(root, "cases", "summary", on=False)
    _flag(root, "cases", "outcomes", on=False)
    _flag(root, "cases", "critiques", on=False)
    _flag(root, "cases", "discussion_questions", on=False)
    problems = validate_project(load_project(root))
    warned = [p for p in problems if p.code == "markdown-unmarked"]
    assert [(p.path, p.severity, p.field) for p in warned] == [(DESCRIPTOR, "warning", "cases.fields")]
    assert "coguide:markdown" in warned[0].hint


def test_a_plain_field_given_the_flag_is_still_escaped_on_its_page(project, tmp_path):
    """Marking a case's title as Markdown lets validation read it, but the page still shows it as plain text."""
    from coguide.build import generate

    root = project()
    _set_cell(root, "datapackage/cases.csv", "care-act-2014", "title", "Care *Act* [x](https://example.org)")
    _flag(root, "cases", "title", on=True)
    result = generate(root, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    assert "title" in result.site.cases["care-act-2014"].text_fields
    page = (tmp_path / "out" / "cases" / "care-act-2014.md").read_text()
    assert "<em>Act</em>" not in page
    assert '<a href="https://example.org"' not in page
    assert r"Care \*Act\* \[x\]\(https://example\.org\)" in page
