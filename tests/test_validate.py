from __future__ import annotations

import pytest

from coguide.errors import CATALOGUE, errors_only
from coguide.source.load import load_project
from coguide.source.validate import validate_project

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
    "row-one-cell-short": (T, 6, "missing-cell"),
    # House rules (coguide.source.rules): what CI requires of finished content.
    "essay-too-short": (ESSAY, 10, "essay-length"),
    "essay-too-few-citations": (ESSAY, 10, "essay-citations"),
    "two-discussion-questions": (ESSAY, 84, "discussion-questions"),
    "two-sentences-on-a-line": (ESSAY, 26, "one-sentence-per-line"),
    "record-without-citation": ("datapackage/arguments.csv", 3, "uncited-record"),
    "placeholder-left-in-record": (T, 6, "placeholder-text"),
    "name-shared-by-two-records": (T, 6, "shared-name"),
    "debate-without-a-side": ("datapackage/questions.csv", 2, "one-sided-debate"),
}

# Each of these is reported as a warning (shown by `check --warnings`); the check still passes.
WARNING_DEFECTS = {
    "title-loses-capitals": (B, 37, "title-case-lost"),
    "organisation-as-person": (B, 35, "group-author"),
}

# The near miss of each house rule: a fixture that must NOT be reported under the code given.
NEAR_MISSES = {
    "essay-just-long-enough": "essay-length",
    "essay-with-eight-citations": "essay-citations",
    "four-discussion-questions": "discussion-questions",
    "abbreviations-on-a-line": "one-sentence-per-line",
    "record-cited-in-a-question": "uncited-record",
    "write-in-a-question": "placeholder-text",
    "name-repeated-in-one-record": "shared-name",
    "debate-with-a-second-argument-for": "one-sided-debate",
    "title-capitals-braced": "title-case-lost",
    "organisation-in-double-braces": "group-author",
}


# What a defect brings with it, besides its own error: links to a malformed id fail too, and each of two
# tags is reported. Anything else a defect reports is a misleading extra, and fails the test.
FOLLOW_ON = {
    "id-path-traversal": [("datapackage/argument_terms.csv", 2, "foreign-key")],
    "id-unicode-lookalike": [("datapackage/argument_terms.csv", 2, "foreign-key")],
    "id-with-capitals": [("datapackage/argument_terms.csv", 2, "foreign-key")],
    "id-with-spaces": [("datapackage/argument_terms.csv", 2, "foreign-key")],
    "raw-html-in-record": [(C, 3, "raw-html")],
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
    assert sorted(found) == sorted([expected, *FOLLOW_ON.get(defect, [])]), (
        f"{defect}: expected {expected}, got {found}"
    )
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
    expected = [
        DEFECTS[d] for d in ("dangling-foreign-key", "self-link", "unknown-citation-in-essay", "wrong-type")
    ]
    assert sorted(errors(root)) == sorted(expected)


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


@pytest.mark.parametrize("defect", sorted(WARNING_DEFECTS))
def test_reference_warnings_name_file_line_and_code(project, defect):
    problems = validate_project(load_project(project(defect)))
    assert errors_only(problems) == []
    found = [(p.path, p.line, p.code) for p in problems if p.severity == "warning"]
    assert WARNING_DEFECTS[defect] in found, found


@pytest.mark.parametrize("fixture", sorted(NEAR_MISSES))
def test_a_near_miss_passes_its_rule(project, fixture):
    problems = validate_project(load_project(project(fixture)))
    assert [p.format() for p in problems if p.code != "unused-reference"] == []


def test_every_house_rule_has_a_failing_and_a_passing_fixture():
    from coguide.source.rules import HOUSE_RULES

    failing = {code for _path, _line, code in [*DEFECTS.values(), *WARNING_DEFECTS.values()]}
    assert set(HOUSE_RULES) <= failing
    assert set(HOUSE_RULES) == set(NEAR_MISSES.values())


def test_a_short_row_is_one_problem_that_counts_its_cells(project):
    problems = validate_project(load_project(project("row-one-cell-short")))
    # The shifted cells would break three rules of their new columns; only the cause is reported.
    assert [p.format() for p in problems] == [
        "datapackage/terms.csv:6: [missing-cell] this row has 13 cells but the header has 14: 1 cell is missing; "
        "unless it was the last, every cell after the gap has moved one column to the left "
        "(add the comma where a cell was left out: an empty cell is still written, as ,,)"
    ]


def test_a_row_with_an_extra_cell_and_links_from_it(project):
    root = project()
    links = root / "datapackage" / "case_concepts.csv"
    links.write_text("case,concept\ncare-act-2014,co-production,power\ncare-act-2014,powr\n")
    problems = [p for p in validate_project(load_project(root)) if p.path == "datapackage/case_concepts.csv"]
    assert [(p.line, p.code) for p in problems] == [(2, "extra-cell"), (3, "foreign-key")]
    assert problems[0].message.startswith("this row has 3 cells but the header has 2: 1 cell too many")


def test_a_malformed_id_comes_before_the_links_it_breaks_and_is_explained_in_words(project):
    problems = errors_only(validate_project(load_project(project("id-with-spaces"))))
    codes = [(p.path, p.code) for p in problems]
    cause = codes.index((T, "constraint-error"))
    consequence = codes.index(("datapackage/argument_terms.csv", "foreign-key"))
    assert cause < consequence
    message = problems[cause].message
    assert message == (
        'field "id" value "service user" is not a valid id: use lower-case letters and digits joined by '
        'single hyphens, such as "service-user"'
    )
    assert "^[a-z0-9]" not in message


def test_constraints_are_explained_in_words(project):
    problems = errors_only(validate_project(load_project(project("bad-enum-value"))))
    (problem,) = [p for p in problems if p.code == "constraint-error"]
    assert "is not one of the allowed values: for, against, qualifies" in problem.message


@pytest.mark.parametrize(("words", "ok"), [(799, False), (800, True), (1600, True), (1601, False)])
def test_essay_length_limits(project, words, ok):
    from coguide.source.rules import prose_words

    root = project()
    path = root / "docs" / "blog" / "posts" / "a-fixture-essay.md"
    head, rest = path.read_text().split("<!-- more -->\n")
    argument, questions = rest.split("## Discussion questions")

    def write(lines: list[str], padding: int) -> int:
        path.write_text(
            head
            + "<!-- more -->\n"
            + "".join(lines)
            + "Yes.\n" * padding
            + "## Discussion questions"
            + questions
        )
        return prose_words(next(d for d in load_project(root).documents if d.is_post))

    # Drop whole sentences from the end, then add one-word sentences, so only the count changes.
    lines = argument.splitlines(keepends=True)
    while write(lines, 0) > words:
        lines.pop()
    assert write(lines, words - write(lines, 0)) == words
    codes = {p.code for p in errors_only(validate_project(load_project(root)))}
    assert ("essay-length" not in codes) is ok, codes


def test_titles_that_lose_capitals():
    from coguide.source.rules import lost_capitals

    assert lost_capitals("Using R (and Friends)") == [("R", "a one-letter word")]
    assert lost_capitals("Using {R} (and Friends)") == []
    assert lost_capitals("What is an iPhone for?") == [("iPhone", "a word with an inner capital")]
    assert lost_capitals("Mozilla Science Lab's study group") == [
        ("Science", "capitalised in a title written in sentence case"),
        ("Lab's", "capitalised in a title written in sentence case"),
    ]
    # In title case nothing tells a proper noun from the rest, unless the author's name says so.
    assert lost_capitals("Mozilla Science Lab's Study Group") == []
    assert lost_capitals("Doing Business with the Big Lottery Fund", ["Big Lottery Fund"]) == [
        ("Big", "part of the author's name"),
        ("Lottery", "part of the author's name"),
        ("Fund", "part of the author's name"),
    ]
    # Kept anyway: the first word, the first after a colon, words with two capitals, the article "A".
    assert lost_capitals("Power: A Radical View of the NHS and KeyRing") == []


def test_organisations_written_as_people_are_found():
    from coguide.cite import Bibliography
    from coguide.source.rules import check_references

    bib, _ = Bibliography.parse(
        "@misc{x2019,\n  author = {Mozilla Science Lab and Smith, John and {Criminology Today} and Henry VIII},"
        "\n  title = {Notes},\n  year = {2019}\n}\n"
    )
    (problem,) = check_references(bib, "refs.bib")
    assert problem.format() == (
        'refs.bib:2: warning: [group-author] author "Mozilla Science Lab" of "x2019" looks like an '
        'organisation but is read as a person, "Lab, M. S." (brace the whole name so it is read as one: '
        "{Mozilla Science Lab}, as in author = {{Mozilla Science Lab}})"
    )


def test_an_essays_argument_leaves_out_code_blocks_headings_and_comments():
    from coguide.source.load import Document
    from coguide.source.rules import prose_lines, prose_words

    body = (
        "# Title\n\n"
        "One two three.\n\n"
        "```text\nnot counted at all\n```\n\n"
        "    indented code not counted\n\n"
        '!!! note "Aside"\n\n    four counted words here\n\n'
        "<!-- a comment -->\n"
        "Five six.\n\n"
        "## Discussion questions\n\nNot the argument.\n"
    )
    doc = Document(
        path="docs/blog/posts/x.md", src_uri="blog/posts/x.md", meta={}, body=body, body_line=5, is_post=True
    )
    lines = dict(prose_lines(doc))
    assert lines[5 + 2] == "One two three."
    assert 5 + 5 not in lines and 5 + 8 not in lines  # the fence's content, the indented code
    assert lines[5 + 12] == "    four counted words here"  # an admonition's indented prose is prose
    assert prose_words(doc) == 3 + 3 + 4 + 2  # "!!! note "Aside"" is three words of the page too
