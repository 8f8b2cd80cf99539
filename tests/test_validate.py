from __future__ import annotations

import pytest

from coguide.errors import CATALOGUE, errors_only
from coguide.load import load_project
from coguide.validate import validate_project

T = "datapackage/terms.csv"
C = "datapackage/concepts.csv"
B = "datapackage/references.bib"
ESSAY = "docs/blog/posts/a-fixture-essay.md"

# Each defect fixture holds one defect; the check must name its file, line and code.
DEFECTS = {
    "broken-csv-quoting": ("datapackage/questions.csv", 3, "csv-syntax"),
    "wrong-type": ("datapackage/cases.csv", 2, "type-error"),
    "missing-required-field": (C, 3, "constraint-error"),
    "empty-file": ("datapackage/questions.csv", 1, "empty-file"),
    "missing-file": ("datapackage/case_terms.csv", None, "missing-file"),
    "duplicate-id": (T, 7, "primary-key"),
    "id-path-traversal": (T, 6, "constraint-error"),
    "id-with-spaces": (T, 6, "constraint-error"),
    "id-with-capitals": (T, 6, "constraint-error"),
    "id-unicode-lookalike": (T, 6, "constraint-error"),
    "dangling-foreign-key": ("datapackage/term_concepts.csv", 2, "foreign-key"),
    "self-link": ("datapackage/concept_related.csv", 3, "self-link"),
    "unknown-citation-in-record": (C, 2, "unknown-citation"),
    "unknown-citation-in-essay": (ESSAY, 16, "unknown-citation"),
    "malformed-bibtex": (B, 15, "bibtex-syntax"),
    "duplicate-bibtex-key": (B, 34, "duplicate-key"),
    "bibtex-no-year": (B, 23, "missing-year"),
    "bibtex-no-author": (B, 12, "missing-author"),
    "field-too-long": (T, 6, "constraint-error"),
    "non-utf8-file": (C, 3, "encoding-error"),
    "broken-front-matter": (ESSAY, 6, "front-matter"),
    "alias-collision": (T, 6, "alias-collision"),
    "raw-html-in-record": (C, 3, "raw-html"),
    "unsafe-link-in-record": (C, 3, "unsafe-link"),
    "unknown-record-in-citations": ("datapackage/citations.csv", 4, "unknown-record"),
    "misspelt-header": ("datapackage/questions.csv", 1, "header-error"),
    "bad-enum-value": ("datapackage/arguments.csv", 2, "constraint-error"),
}


def errors(root):
    return [(p.path, p.line, p.code) for p in errors_only(validate_project(load_project(root)))]


def test_base_fixture_is_clean(project):
    assert errors(project()) == []


def test_bom_and_crlf_are_accepted(project):
    assert errors(project("bom-and-crlf")) == []


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_is_reported_with_file_line_and_code(project, defect):
    expected = DEFECTS[defect]
    found = errors(project(defect))
    assert expected in found, f"{defect}: expected {expected}, got {found}"
    assert expected[2] in CATALOGUE


def test_did_you_mean_for_keys_and_ids(project):
    problems = validate_project(load_project(project("unknown-citation-in-record")))
    (problem,) = [p for p in problems if p.code == "unknown-citation"]
    assert problem.hint == 'did you mean "needham2008"?'
    problems = validate_project(load_project(project("dangling-foreign-key")))
    (problem,) = [p for p in problems if p.code == "foreign-key"]
    assert problem.hint == 'did you mean "power"?'
    assert problem.format() == (
        'datapackage/term_concepts.csv:2: [foreign-key] concept "powr" is not an id in '
        'datapackage/concepts.csv (did you mean "power"?)'
    )


def test_every_problem_is_reported_at_once(project):
    root = project("dangling-foreign-key", "self-link", "unknown-citation-in-essay", "wrong-type")
    codes = {code for _path, _line, code in errors(root)}
    assert {"foreign-key", "self-link", "unknown-citation", "type-error"} <= codes


def test_unused_reference_is_a_warning_not_an_error(project):
    root = project()
    bib = root / "datapackage" / "references.bib"
    bib.write_text(
        bib.read_text() + "\n@book{lukes2005,\n  author = {Lukes, Steven},\n  title = {Power},\n"
        "  year = {2005},\n  publisher = {Palgrave Macmillan}\n}\n"
    )
    problems = validate_project(load_project(root))
    assert errors_only(problems) == []
    assert [(p.code, p.severity) for p in problems] == [("unused-reference", "warning")]


def test_github_format(project):
    problems = errors_only(validate_project(load_project(project("self-link"))))
    assert problems[0].format_github().startswith("::error file=datapackage/concept_related.csv,line=3,")


def test_a_malformed_id_gets_a_slug_hint_and_links_to_it_point_at_its_row(project):
    problems = validate_project(load_project(project("id-with-spaces")))
    (bad_id,) = [p for p in problems if p.code == "constraint-error"]
    assert (bad_id.line, bad_id.hint) == (6, 'write it as "service-user"')
    (link,) = [p for p in problems if p.code == "foreign-key"]
    assert link.path == "datapackage/argument_terms.csv"
    assert link.hint == 'fix the malformed id "service user" at datapackage/terms.csv:6'


def test_links_to_one_malformed_id_come_as_one_problem_per_file(project):
    root = project("id-with-spaces")
    links = root / "datapackage" / "argument_terms.csv"
    links.write_text(
        "argument,term\nshares-power,service-user\ndevolves-responsibility,client\n"
        "devolves-responsibility,service-user\nshares-power,nobody\n"
    )
    problems = [p for p in validate_project(load_project(root)) if p.path == "datapackage/argument_terms.csv"]
    # The links broken by the malformed id follow that id (in terms.csv); the other keeps its place.
    assert [(p.line, p.code) for p in problems] == [(5, "foreign-key"), (2, "foreign-key")]
    other, grouped = problems
    assert grouped.message == (
        'term "service-user" (here and on line 4) is not an id in datapackage/terms.csv'
    )
    assert grouped.hint == 'fix the malformed id "service user" at datapackage/terms.csv:6'
    assert other.message == 'term "nobody" is not an id in datapackage/terms.csv'


def test_type_errors_name_the_expected_type(project):
    problems = validate_project(load_project(project("wrong-type")))
    (problem,) = [p for p in problems if p.code == "type-error"]
    assert problem.message == '"twenty fourteen" is not a valid integer for field "start_year"'
