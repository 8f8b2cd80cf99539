"""`coguide new`: skeleton records and essays that are valid rows and files, whose instructions `check` reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest

from coguide.cli import main
from coguide.errors import errors_only
from coguide.source.load import load_project
from coguide.source.schema import read_registry
from coguide.source.validate import validate_project
from coguide.text import is_slug, slugify
from coguide.tools.scaffold import MAX_SLUG, new_essay

ROOT = Path(__file__).resolve().parent.parent
#: The instruction `coguide new` writes in each field, by table, as the descriptor declares it.
PROMPTS = {
    name: record_type.prompts
    for name, record_type in read_registry(load_project(ROOT).descriptor).items()
    if record_type.prompts
}


def errors(root: Path) -> list[str]:
    return [p.format() for p in errors_only(validate_project(load_project(root)))]


#: What `check` says about an untouched skeleton record: its instructions, and that it cites nothing yet.
SKELETON_CODES = {"placeholder-text", "uncited-record"}
#: What `check` says about an untouched skeleton essay.
ESSAY_CODES = {"placeholder-text", "essay-length", "essay-citations"}


def codes(root: Path) -> set[str]:
    return {p.code for p in errors_only(validate_project(load_project(root)))}


def last_row(path: Path) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return rows[-1]


@pytest.mark.parametrize(
    ("kind", "table"),
    [("term", "terms"), ("concept", "concepts"), ("case", "cases"), ("argument", "arguments")],
)
def test_new_record_appends_a_valid_row(project, capsys, kind, table):
    root = project()
    path = root / "datapackage" / f"{table}.csv"
    lines_before = path.read_text(encoding="utf-8").count("\n")
    assert main(["--project", str(root), "new", kind, "a-new-one"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f'datapackage/{table}.csv:{lines_before + 1}: added the {kind} "a-new-one"')
    row = last_row(path)
    assert row["id"] == "a-new-one"
    for field, prompt in PROMPTS[table].items():
        assert row[field] == prompt
        assert field in out
    problems = errors_only(validate_project(load_project(root)))
    assert {p.code for p in problems} == SKELETON_CODES
    assert sorted(p.field for p in problems if p.code == "placeholder-text") == sorted(PROMPTS[table])
    assert all(p.path == f"datapackage/{table}.csv" for p in problems)


@pytest.mark.parametrize(
    ("kind", "table"),
    [("term", "terms"), ("concept", "concepts"), ("case", "cases"), ("argument", "arguments")],
)
def test_a_skeleton_filled_in_as_contributing_says_passes(project, kind, table):
    root = project()
    assert main(["--project", str(root), "new", kind, "a-new-one"]) == 0
    path = root / "datapackage" / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    for field, prompt in PROMPTS[table].items():
        text = text.replace(prompt, f"The {field.replace('_', ' ')} of the record in the editors' own words.")
    path.write_text(text, encoding="utf-8")
    assert codes(root) == {"uncited-record"}
    citations = root / "datapackage" / "citations.csv"
    citations.write_text(citations.read_text(encoding="utf-8") + f"{table},a-new-one,needham2008,\n")
    assert errors(root) == []


def test_new_rows_use_valid_defaults(project):
    root = project()
    for kind in ("term", "case", "argument"):
        assert main(["--project", str(root), "new", kind, "x-1"]) == 0
    term = last_row(root / "datapackage" / "terms.csv")
    year = str(dt.date.today().year)
    assert (term["label"], term["sectors"], term["era_start"]) == ("x 1", "public-services", year)
    case = last_row(root / "datapackage" / "cases.csv")
    assert (case["title"], case["level"], case["kind"]) == ("X 1", "individual", "programme")
    argument = last_row(root / "datapackage" / "arguments.csv")
    assert (argument["question"], argument["stance"]) == ("does-co-production-empower", "for")
    assert codes(root) == SKELETON_CODES


def test_argument_question_can_be_chosen_and_must_exist(project, capsys):
    root = project()
    assert main(["--project", str(root), "new", "argument", "x", "--question", "nope"]) == 2
    assert '--question "nope" is not an id in datapackage/questions.csv' in capsys.readouterr().err
    question = "does-co-production-empower"
    assert main(["--project", str(root), "new", "argument", "x", "--question", question]) == 0
    assert last_row(root / "datapackage" / "arguments.csv")["question"] == question


def test_new_record_keeps_crlf_line_endings_and_a_missing_final_newline(project):
    root = project()
    path = root / "datapackage" / "concepts.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    assert main(["--project", str(root), "new", "concept", "fresh"]) == 0
    data = path.read_bytes()
    assert data.endswith(b"\r\n") and b"\r\r" not in data and data.count(b"\n") == data.count(b"\r\n")
    assert last_row(path)["id"] == "fresh"
    assert codes(root) == SKELETON_CODES


@pytest.mark.parametrize(
    ("kind", "record_id", "message"),
    [
        ("term", "client", 'datapackage/terms.csv:2: the id "client" is already used'),
        ("concept", "power", 'datapackage/concepts.csv:3: the id "power" is already used'),
        ("term", "Service_User", '"Service_User" is not a valid id'),
        ("case", "two--hyphens", '"two--hyphens" is not a valid id'),
        ("argument", "trailing-", '"trailing-" is not a valid id'),
    ],
)
def test_bad_or_taken_ids_are_refused_and_nothing_changes(project, capsys, kind, record_id, message):
    root = project()
    before = {p.name: p.read_bytes() for p in (root / "datapackage").iterdir()}
    assert main(["--project", str(root), "new", kind, record_id]) == 2
    assert message in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (root / "datapackage").iterdir()} == before


def test_invalid_id_error_suggests_a_slug(project, capsys):
    assert main(["--project", str(project()), "new", "term", "Service_User"]) == 2
    assert '(try "service-user")' in capsys.readouterr().err


def test_an_alias_cannot_be_reused_as_an_id(project, capsys):
    root = project()
    path = root / "datapackage" / "terms.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('hide?",', 'hide?",old-client', 1), encoding="utf-8")
    assert errors(root) == []
    assert main(["--project", str(root), "new", "term", "old-client"]) == 2
    assert 'is a former id of "client"' in capsys.readouterr().err


def test_a_derived_name_that_is_taken_is_refused(project, capsys):
    root = project()
    path = root / "datapackage" / "concepts.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("power,power,", "power,odd one,", 1), encoding="utf-8")
    assert main(["--project", str(root), "new", "concept", "odd-one"]) == 2
    assert '"odd one" is already the name of "power"' in capsys.readouterr().err


def test_new_essay_is_valid_and_never_overwritten(project, capsys):
    root = project()
    assert main(["--project", str(root), "new", "essay", "Is co-production a myth?"]) == 0
    path = root / "docs" / "blog" / "posts" / "is-co-production-a-myth.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"---\ndate: {dt.date.today().isoformat()}\nauthors:\n  - editors\n")
    assert "\n# Is co-production a myth?\n" in text
    assert "<!-- more -->" in text and "## Discussion questions" in text
    problems = errors_only(validate_project(load_project(root)))
    assert {p.code for p in problems} == ESSAY_CODES
    essay = "docs/blog/posts/is-co-production-a-myth.md"
    assert all(p.path == essay for p in problems)
    # Every instruction is reported on its own line: the description (line 7) and the six prompts.
    lines = [p.line for p in problems if p.code == "placeholder-text"]
    assert lines == [i + 1 for i, line in enumerate(text.splitlines()) if "Write " in line]
    sources = load_project(root)
    essay = next(d for d in sources.documents if d.path.endswith("is-co-production-a-myth.md"))
    assert essay.meta["categories"] == ["Co-production"] and essay.meta["description"]
    capsys.readouterr()
    assert main(["--project", str(root), "new", "essay", "Is co-production a myth!"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == text


def test_new_essay_in_a_project_without_posts_creates_the_folder(project):
    root = project()
    shutil.rmtree(root / "docs" / "blog")
    path = new_essay(root, "  A   title ", today=dt.date(2030, 2, 3))
    assert path == root / "docs" / "blog" / "posts" / "a-title.md"
    assert path.read_text(encoding="utf-8").startswith("---\ndate: 2030-02-03\n")


def test_essay_without_letters_is_refused(project, capsys):
    assert main(["--project", str(project()), "new", "essay", "?!"]) == 2
    assert "has no letters or digits" in capsys.readouterr().err


def test_slugify():
    assert slugify("Café, crème & co-production: what’s new?") == "cafe-creme-co-production-whats-new"
    assert len(slugify("word " * 40, max_length=MAX_SLUG)) <= 80
    assert not slugify("word " * 40, max_length=MAX_SLUG).endswith("-")
    assert slugify("word " * 40, max_length=MAX_SLUG) == "-".join(["word"] * 16)
    assert len(slugify("word " * 40)) == 199  # no limit unless one is asked for


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Service User", "service-user"),
        ("  --Client__Voice--  ", "client-voice"),
        ("don't stop", "don-t-stop"),
        ("Ærø Straße", "aero-strasse"),
        ("?!", ""),
    ],
)
def test_one_slug_function_for_ids_hints_and_file_names(text, slug):
    assert slugify(text) == slug
    assert is_slug(slug) == bool(slug)


def test_not_a_project(tmp_path, capsys):
    assert main(["--project", str(tmp_path), "new", "term", "x"]) == 2
    assert "is not a coguide project" in capsys.readouterr().err


def test_new_record_on_a_copy_of_the_real_project_still_passes_the_check(tmp_path):
    root = tmp_path / "real"
    shutil.copytree(ROOT / "datapackage", root / "datapackage")
    shutil.copytree(ROOT / "docs", root / "docs")
    for kind in ("term", "concept", "case", "argument"):
        assert main(["--project", str(root), "new", kind, f"zz-scaffold-{kind}"]) == 0
    assert main(["--project", str(root), "new", "essay", "A scaffold check"]) == 0
    problems = errors_only(validate_project(load_project(root)))
    assert {p.code for p in problems} <= SKELETON_CODES | ESSAY_CODES
    assert {p.path for p in problems} == {
        "datapackage/terms.csv",
        "datapackage/concepts.csv",
        "datapackage/cases.csv",
        "datapackage/arguments.csv",
        "docs/blog/posts/a-scaffold-check.md",
    }
