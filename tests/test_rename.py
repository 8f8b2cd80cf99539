"""`coguide rename`: an id changed everywhere in one command, the old address kept as a redirect."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from coguide.cli import build_site, main
from coguide.errors import errors_only
from coguide.source.load import load_project
from coguide.source.validate import validate_project

ESSAY = Path("docs/blog/posts/a-fixture-essay.md")
LINKS = "\nSee the [client](../../terms/client.md#history) page, and [the label](../../terms/client.md).\n"


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_rename_changes_every_reference_and_the_project_checks_clean_and_builds(project, capsys, tmp_path):
    root = project(full=True)
    (root / ESSAY).write_text((root / ESSAY).read_text() + LINKS)
    assert errors_only(validate_project(load_project(root))) == []
    assert main(["--project", str(root), "rename", "term", "client", "professional-client"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        'datapackage/citations.csv:2: record "client" -> "professional-client"',
        'datapackage/term_concepts.csv:2: term "client" -> "professional-client"',
        'datapackage/terms.csv:2: id "client" -> "professional-client"',
        'datapackage/terms.csv:2: aliases now "client"',
        "docs/blog/posts/a-fixture-essay.md:90: link to terms/client -> terms/professional-client",
        'Renamed the term "client" to "professional-client": 5 change(s) in 4 file(s). '
        "/terms/client/ now redirects to /terms/professional-client/; run `coguide check`.",
    ]
    data = root / "datapackage"
    term = next(r for r in rows(data / "terms.csv") if r["label"] == "client")
    assert (term["id"], term["aliases"]) == ("professional-client", "client")
    assert ("professional-client", "power") in {
        (r["term"], r["concept"]) for r in rows(data / "term_concepts.csv")
    }
    assert {r["record"] for r in rows(data / "citations.csv") if r["resource"] == "terms"} == {
        "professional-client"
    }
    assert "../../terms/professional-client.md#history" in (root / ESSAY).read_text()
    assert "terms/client.md" not in (root / ESSAY).read_text()
    assert [p.format() for p in validate_project(load_project(root))] == []
    site = tmp_path / "site"
    assert build_site(root, site, verbose=False) == 0
    assert (site / "terms" / "professional-client" / "index.html").is_file()
    redirect = (site / "terms" / "client" / "index.html").read_text()
    assert "professional-client" in redirect


def test_rename_rewrites_only_the_rows_it_changes(project):
    root = project()
    path = root / "datapackage" / "term_concepts.csv"
    # A BOM, CRLF line endings and needless quotes, as a spreadsheet may save them.
    path.write_bytes(b'\xef\xbb\xbfterm,concept\r\n"service-user",power\r\nclient,power\r\n')
    assert main(["--project", str(root), "rename", "term", "client", "professional-client"]) == 0
    assert (
        path.read_bytes()
        == b'\xef\xbb\xbfterm,concept\r\n"service-user",power\r\nprofessional-client,power\r\n'
    )


def test_a_concept_rename_follows_self_links_and_broader(project):
    root = project()
    concepts = root / "datapackage" / "concepts.csv"
    text = concepts.read_text()
    assert 'p. 224].",,,' in text
    concepts.write_text(text.replace('p. 224].",,,', 'p. 224].",power,,', 1))
    assert main(["--project", str(root), "rename", "concept", "power", "social-power"]) == 0
    related = rows(root / "datapackage" / "concept_related.csv")
    assert ("co-production", "social-power") in {(r["concept"], r["related"]) for r in related}
    broader = {r["id"]: r["broader"] for r in rows(concepts)}
    assert broader["co-production"] == "social-power"
    assert errors_only(validate_project(load_project(root))) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["term", "clinet", "x"],
            'there is no term "clinet" in datapackage/terms.csv (did you mean "client"?)',
        ),
        (["term", "client", "Client_Label"], '"Client_Label" is not a valid id'),
        (
            ["term", "client", "service-user"],
            'datapackage/terms.csv:6: the id "service-user" is already used',
        ),
        (["term", "client", "client"], 'the term is already called "client"'),
    ],
)
def test_a_refused_rename_says_why_and_changes_nothing(project, capsys, args, message):
    root = project()
    before = snapshot(root)
    assert main(["--project", str(root), "rename", *args]) == 2
    assert message in capsys.readouterr().err
    assert snapshot(root) == before


def test_a_former_id_of_another_record_is_refused(project, capsys):
    root = project()
    terms = root / "datapackage" / "terms.csv"
    terms.write_text(terms.read_text().replace('hide?",', 'hide?",old-client', 1))
    before = snapshot(root)
    assert main(["--project", str(root), "rename", "term", "service-user", "old-client"]) == 2
    assert 'is a former id of "client"' in capsys.readouterr().err
    assert snapshot(root) == before


def test_renaming_back_to_a_former_id_takes_it_out_of_the_aliases(project):
    root = project()
    assert main(["--project", str(root), "rename", "term", "client", "professional-client"]) == 0
    assert main(["--project", str(root), "rename", "term", "professional-client", "client"]) == 0
    term = next(r for r in rows(root / "datapackage" / "terms.csv") if r["label"] == "client")
    assert (term["id"], term["aliases"]) == ("client", "professional-client")
    assert errors_only(validate_project(load_project(root))) == []
