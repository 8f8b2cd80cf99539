"""The real data package and essays: valid, complete, and meeting the guide's content targets."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from coguide.cite import BIBLIOGRAPHY_PROBLEM_CODES, find_citations
from coguide.errors import CATALOGUE, errors_only
from coguide.load import load_project
from coguide.model import build_model, record_keys
from coguide.validate import parse_bibliography, validate_project

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


def test_every_record_cites_its_sources(site):
    for resource in ("terms", "concepts", "cases", "arguments"):
        for record in getattr(site, resource).values():
            assert record_keys(record), f"{resource}/{record.id} cites nothing"


def test_every_debate_has_every_side(site):
    for question in site.questions.values():
        stances = {site.arguments[a].stance for a in question.arguments}
        assert stances == {"for", "against", "qualifies"}, question.id


def _prose_words(body: str) -> int:
    body = body.split("## Discussion questions")[0]
    body = "\n".join(line for line in body.splitlines() if not line.startswith("#") and "<!--" not in line)
    return len(body.split())


@pytest.mark.parametrize("path", sorted((ROOT / "docs/blog/posts").glob("*.md")), ids=lambda p: p.stem)
def test_essay_meets_the_house_rules(sources, path):
    doc = next(d for d in sources.documents if d.path.endswith(path.name))
    words = _prose_words(doc.body)
    assert 800 <= words <= 1600, f"{words} words"
    citations = find_citations(doc.body)
    assert len(citations) >= 8
    questions = doc.body.split("## Discussion questions")[1]
    assert 3 <= len(re.findall(r"^\d+\. ", questions, re.MULTILINE)) <= 4
    for line in doc.body.split("## Discussion questions")[0].splitlines():
        # One sentence per line: a line holds at most one sentence end followed by more text.
        assert not re.search(r"[a-z][.?!] [A-Z][a-z]+ [a-z]+ [a-z]+ .*[.?!]$", line) or "et al." in line, (
            line[:80]
        )
