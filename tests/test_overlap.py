"""Overlap: prose that repeats a source word for word is found, with its file, line and field."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from coguide.cli import main
from coguide.source.load import load_project
from coguide.tools.overlap import Index, Passage, Source, find_overlaps, own_words, read_sources, words_of

SOURCE = (
    "Practitioners have long argued that the relationship between the worker and the person\n"
    "who uses a service is shaped by the name each gives the other. Co-\nproduction, on this\n"
    "view, is less a technique than a change in who holds the pen when decisions are written down.\n"
)
COPIED = "the relationship between the worker and the person who uses a service is shaped by the name"


def _essay(root: Path) -> Path:
    return root / "docs" / "blog" / "posts" / "a-fixture-essay.md"


def _append(path: Path, *lines: str) -> int:
    """Append lines to a file; return the editor line number of the first one."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    first = text.count("\n") + 1
    path.write_text(text + "".join(line + "\n" for line in lines), encoding="utf-8")
    return first


def _source(tmp_path: Path, text: str = SOURCE, name: str = "source.txt") -> Path:
    path = tmp_path / "sources" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_words_ignore_case_punctuation_hyphens_and_curly_apostrophes():
    assert words_of("Co-\nproduction: the People’s CHOICE!") == [
        "co",
        "production",
        "the",
        "people's",
        "choice",
    ]
    assert (
        words_of("co-production") == words_of("co- production") == words_of("Co‑production".replace("‑", "-"))
    )


def test_quotations_citations_code_and_link_targets_are_not_own_words():
    text = (
        'He calls it "a copied phrase" [@key, p. 3], ‘another one’, `code` and [a link](https://x.test/a-b).'
    )
    kept = own_words(text)
    for gone in ("copied phrase", "@key", "another one", "code", "x.test"):
        assert gone not in kept
    assert "He calls it" in kept and "a link" in kept


def test_a_copied_sentence_in_an_essay_is_reported_at_its_line(project, tmp_path):
    root = project()
    line = _append(_essay(root), "", f"Some say {COPIED} we choose.")
    problems = find_overlaps(load_project(root), read_sources([_source(tmp_path)]))
    assert [(p.path, p.line, p.code) for p in problems] == [
        ("docs/blog/posts/a-fixture-essay.md", line + 1, "copied-wording")
    ]
    assert f'17 words in a row are the same as in source.txt: "{COPIED}"' in problems[0].message
    assert "quotation marks" in problems[0].hint


def test_a_marked_quotation_is_allowed_and_cannot_join_the_words_around_it(project, tmp_path):
    root = project()
    _append(
        _essay(root),
        "",
        f'Some say that "{COPIED}" [@mclaughlin2009, p. 1114].',
        # Each half is under 8 words; the citation between them must not let them count as one run.
        "Between the worker and the person [@mclaughlin2009] who uses a service is shaped.",
    )
    assert find_overlaps(load_project(root), read_sources([_source(tmp_path)])) == []


def test_a_hyphen_broken_across_lines_in_the_source_does_not_hide_a_copy(project, tmp_path):
    root = project()
    line = _append(_essay(root), "", "Co-production, on this view, is less a technique than a change.")
    problems = find_overlaps(load_project(root), read_sources([_source(tmp_path)]))
    assert [p.line for p in problems] == [line + 1]


def _add_concept_body(root: Path, body: str, name: str = "labelling") -> None:
    path = root / "datapackage" / "concepts.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows.append(
        {**{k: "" for k in rows[0]}, "id": name, "name": name, "summary": "Naming people.", "body": body}
    )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_a_copy_in_a_multi_line_cell_is_reported_at_its_own_line_and_field(project, tmp_path):
    root = project()
    _add_concept_body(root, f"A first paragraph of our own.\n\nIt is said that {COPIED}.")
    text = (root / "datapackage" / "concepts.csv").read_text(encoding="utf-8")
    expected = text.splitlines().index(f'It is said that {COPIED}.",,,') + 1
    problems = find_overlaps(load_project(root), read_sources([_source(tmp_path)]))
    assert [(p.path, p.line, p.field) for p in problems] == [("datapackage/concepts.csv", expected, "body")]
    assert problems[0].message.startswith("body: ")


def test_names_and_titles_are_not_compared(project, tmp_path):
    root = project()
    _add_concept_body(root, "Our own words.", name="labelling")
    title = "Practitioners have long argued that the relationship between the worker"
    source = _source(tmp_path, title + ".\n")
    texts = read_sources([source])
    index = Index(texts, 8)
    assert index.longest(Passage(path="x", line=1, text=title)) is not None
    assert find_overlaps(load_project(root), texts) == []


def test_runs_shorter_than_the_threshold_are_not_reported(project, tmp_path):
    root = project()
    _append(_essay(root), "", "We agree on the relationship between the worker and the centre.")
    source = [_source(tmp_path)]
    assert find_overlaps(load_project(root), read_sources(source), 8) == []
    assert len(find_overlaps(load_project(root), read_sources(source), 7)) == 1


def test_the_longest_run_on_a_line_is_the_one_reported():
    texts = [Source(name="a", words=tuple(words_of("one two three four five six seven eight nine ten")))]
    passage = Passage(path="x", line=1, text="one two three four zz three four five six seven eight nine ten")
    match = Index(texts, 4).longest(passage)
    assert match is not None and match.words == tuple(words_of("three four five six seven eight nine ten"))


def test_folders_are_read_for_text_files_and_bad_paths_are_refused(tmp_path):
    _source(tmp_path, "one two", "a.txt")
    _source(tmp_path, "three four", "b.md")
    _source(tmp_path, "not read", "c.pdf")
    assert [s.name for s in read_sources([tmp_path / "sources"])] == ["a.txt", "b.md"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_sources([tmp_path / "missing.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no"):
        read_sources([tmp_path / "empty"])
    with pytest.raises(ValueError, match="at least 4"):
        Index([], 3)


def test_the_command_exits_1_on_a_copy_0_when_clean_and_2_on_bad_arguments(project, tmp_path, capsys):
    root = project()
    source = str(_source(tmp_path))
    assert main(["--project", str(root), "overlap", source]) == 0
    assert "0 line(s) share 8 or more words" in capsys.readouterr().err
    _append(_essay(root), "", f"Some say that {COPIED}.")
    assert main(["--project", str(root), "overlap", source]) == 1
    out = capsys.readouterr().out
    assert "docs/blog/posts/a-fixture-essay.md:" in out and "[copied-wording]" in out
    assert main(["--project", str(root), "overlap", str(tmp_path / "nope.txt")]) == 2
    assert main(["--project", str(root), "overlap", source, "--words", "2"]) == 2
    assert "at least 4" in capsys.readouterr().err


def test_the_command_refuses_a_project_it_cannot_read_whole(project, tmp_path, capsys):
    # Comparing only the readable rows would pass over the rest in silence.
    root = project("broken-csv-quoting")
    assert main(["--project", str(root), "overlap", str(_source(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "[csv-syntax]" in err and "cannot be read" in err
