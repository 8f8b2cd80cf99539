"""The real data package and essays: valid, complete, and meeting the guide's content targets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from coguide.cite import BIBLIOGRAPHY_PROBLEM_CODES, find_citations
from coguide.errors import CATALOGUE, errors_only
from coguide.model import build_model
from coguide.source.load import load_project
from coguide.source.validate import parse_bibliography, validate_project

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts" / "coguide"


@pytest.fixture(scope="module")
def sources():
    return load_project(ROOT)


@pytest.fixture(scope="module")
def site(sources):
    bib, _ = parse_bibliography(sources)
    return build_model(sources, bib)


def test_real_package_passes_every_check(sources):
    assert [p.format() for p in errors_only(validate_project(sources))] == []


def test_stock_frictionless_cli_validates_the_package():
    exe = Path(sys.executable).parent / "frictionless"
    result = subprocess.run(
        [str(exe), "validate", "datapackage/datapackage.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_every_field_has_a_title_and_description(sources):
    for resource in sources.descriptor["resources"]:
        assert resource.get("title") and resource.get("description"), resource["name"]
        for field in resource.get("schema", {}).get("fields", []):
            assert field.get("title") and field.get("description"), (resource["name"], field["name"])


def test_every_error_code_used_is_in_the_catalogue():
    used = set()
    for path in SCRIPTS.glob("*.py"):
        used |= set(re.findall(r'code="([a-z-]+)"', path.read_text()))
    used |= set(BIBLIOGRAPHY_PROBLEM_CODES)
    assert used - set(CATALOGUE) == set()
    for error in CATALOGUE.values():
        assert error.title and len(error.description) > 40, error.code


def test_content_targets_are_met(site):
    assert len(site.terms) >= 12
    assert len(site.concepts) >= 30
    assert len(site.cases) >= 20
    assert len(site.arguments) >= 30
    assert len(site.bibliography) >= 100
    assert len(site.essays) >= 8


@pytest.mark.parametrize(
    "label",
    [
        "client",
        "patient",
        "customer",
        "consumer",
        "service-user",
        "expert-by-experience",
        "offender",
        "victim",
        "carer",
        "citizen",
        "assertive-citizen",
        "active-citizen",
        "people-who-use-services",
    ],
)
def test_every_label_the_sources_discuss_is_there(site, label):
    term = site.terms[label]
    assert term.critiques and any(find_citations(term.critiques)), label


@pytest.fixture(scope="module")
def problems(sources):
    return validate_project(sources)


def test_every_record_cites_its_sources(problems):
    # The rule is coguide check's (uncited-record), so a contributor meets it before CI does.
    assert [p.format() for p in problems if p.code == "uncited-record"] == []


def test_no_instruction_from_coguide_new_is_left_and_no_name_is_shared(problems):
    assert [p.format() for p in problems if p.code in ("placeholder-text", "shared-name")] == []


def test_every_debate_has_every_side(problems):
    assert [p.format() for p in problems if p.code == "one-sided-debate"] == []


ESSAY_RULES = ("essay-length", "essay-citations", "discussion-questions", "one-sentence-per-line")


@pytest.mark.parametrize("path", sorted((ROOT / "docs/blog/posts").glob("*.md")), ids=lambda p: p.stem)
def test_essay_meets_the_house_rules(problems, path):
    # The rules are coguide check's own (coguide.source.rules), so CI applies exactly what a contributor ran.
    rel = path.relative_to(ROOT).as_posix()
    assert [p.format() for p in problems if p.path == rel and p.code in ESSAY_RULES] == []


def test_contributing_lists_the_house_rules_from_the_catalogue():
    from coguide.source.rules import HOUSE_RULES, house_rules_markdown

    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    # The block is generated (python -m coguide.source.rules) from the catalogue, so the two cannot drift.
    assert house_rules_markdown() in contributing
    for code in HOUSE_RULES:
        assert f"`[{code}]`" in contributing, code
