from __future__ import annotations

from coguide.source.load import load_project, split_front_matter


def test_rows_start_on_the_editor_line_even_after_multi_line_cells(project):
    sources = load_project(project())
    terms = sources.tables["terms"]
    # client's quoted cells span lines 2-5 (two multi-line cells); service-user starts on line 6.
    assert [(r.values["id"], r.line, r.number) for r in terms.rows] == [
        ("client", 2, 2),
        ("service-user", 6, 3),
    ]


def test_bom_and_crlf_are_read_as_plain_utf8(project):
    terms = load_project(project("bom-and-crlf")).tables["terms"]
    assert terms.header[0] == "id"
    assert [r.values["id"] for r in terms.rows] == ["client", "service-user"]
    assert terms.rows[1].line == 6


def test_essays_are_read_with_front_matter_and_body_line(project):
    sources = load_project(project())
    (essay,) = [d for d in sources.documents if d.is_post]
    assert essay.meta["categories"] == ["Labels"]
    assert essay.body_line == 9
    assert essay.body.startswith("\n# Does a name change")


def test_missing_and_empty_files_are_problems_not_exceptions(project):
    sources = load_project(project("missing-file", "empty-file"))
    assert {(p.path, p.code) for p in sources.problems} == {
        ("datapackage/case_terms.csv", "missing-file"),
        ("datapackage/questions.csv", "empty-file"),
    }


def test_split_front_matter():
    assert split_front_matter("no front matter") == (None, "no front matter", 1)
    assert split_front_matter("---\na: 1\n---\nbody\n") == ("a: 1\n", "body\n", 4)
