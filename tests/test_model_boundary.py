"""Downstream of the model, nothing parses again: pages and engines read what the model holds.

An AST check of the source: the modules under ``coguide/pages`` and ``coguide/engines`` never import the load
and validate stages (``coguide.source``), and neither they nor ``coguide/build.py`` call the citation parser,
parse a ``.bib`` file or ask the APA style to describe an entry: the model holds every text's citations
and every reference's facts (`coguide.model.ParsedTexts`, `coguide.cite.Bibliography.facts`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scripts" / "coguide"
DOWNSTREAM = sorted([*PACKAGE.glob("pages/*.py"), *PACKAGE.glob("engines/*.py")])
#: Calls that parse again what the model already holds.
FORBIDDEN_CALLS = {"find_citations", "describe_entry", "parse_bibliography"}
FORBIDDEN_METHODS = {("Bibliography", "parse"), ("Bibliography", "from_file")}


def _imports_source(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coguide.source"):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.startswith("coguide.source")
            ]
    return found


def _forbidden_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        # Importing a parser under any name is a way round the call check: refuse the import itself.
        if isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name in FORBIDDEN_CALLS]
            continue
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
            found.append(f"line {node.lineno}: {func.id}()")
        elif isinstance(func, ast.Attribute):
            if func.attr in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: .{func.attr}()")
            elif isinstance(func.value, ast.Name) and (func.value.id, func.attr) in FORBIDDEN_METHODS:
                found.append(f"line {node.lineno}: {func.value.id}.{func.attr}()")
    return found


@pytest.mark.parametrize("path", DOWNSTREAM, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_and_engines_never_import_the_source_stage(path):
    assert _imports_source(ast.parse(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize(
    "path", [*DOWNSTREAM, PACKAGE / "build.py"], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_nothing_downstream_of_the_model_parses_again(path):
    assert _forbidden_calls(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_check_finds_what_it_forbids():
    source = (
        "from coguide.source.load import load_project\n"
        "import coguide.source.validate\n"
        "find_citations(text)\n"
        "apa.describe_entry(entry)\n"
        "Bibliography.parse(text)\n"
        "Bibliography.from_file(path)\n"
        "from coguide.cite import find_citations as scan\n"
    )
    tree = ast.parse(source)
    assert len(_imports_source(tree)) == 2
    assert len(_forbidden_calls(tree)) == 5


def test_the_model_finds_every_text_parsed_by_validation(project, monkeypatch):
    """Each discussion question is a text of its own in the model; validation parses it so, not the whole cell."""
    import coguide.model as model
    from coguide.source.load import load_project
    from coguide.source.validate import validate_sources

    root = project(full=True)
    terms = root / "datapackage" / "terms.csv"
    text = terms.read_text(encoding="utf-8")
    # A question citing a work, added on a line of its own to the client's cell of questions.
    sources = load_project(root)
    row = next(r for r in sources.tables["terms"].rows if r.values["id"] == "client")
    cell = row.values["discussion_questions"]
    assert cell.strip(), "the fixture's client has discussion questions"
    edited = text.replace(cell, cell + "\nWho decides what counts as help [@mclaughlin2009]?", 1)
    terms.write_text(edited, encoding="utf-8")
    sources = load_project(root)
    validation = validate_sources(sources)
    assert not [p for p in validation.problems if p.severity == "error"]

    def refuse(text: str) -> list:
        raise AssertionError(f"the model parsed {text[:60]!r} again")

    monkeypatch.setattr(model, "find_citations", refuse)
    site = model.build_model(sources, validation.bibliography, model.SiteInfo(), validation.citations)
    question = "Who decides what counts as help [@mclaughlin2009]?"
    assert question in site.terms["client"].questions
    assert [i.key for c in site.texts.cites(question) for i in c.items] == ["mclaughlin2009"]
