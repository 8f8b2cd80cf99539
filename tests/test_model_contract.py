"""One contract: every field of a record resource in ``datapackage.json`` has a place in the model, and back.

The registry (`coguide.source.schema`) is read from the descriptor; the model's dataclasses are filled from
it. These tests fail when a schema field is added without a place in the model, or a dataclass field is
added without a source, and when the descriptor and the model disagree about what the model needs.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from coguide.cite import Bibliography
from coguide.model import DERIVED, FIELD_PLACES, Argument, Case, Concept, Question, Term, build_model
from coguide.source.load import load_project
from coguide.source.schema import MARKDOWN, MODEL_NEEDS, contract_problems, read_registry

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR = json.loads((ROOT / "datapackage" / "datapackage.json").read_text(encoding="utf-8"))
CLASSES = {"terms": Term, "concepts": Concept, "cases": Case, "questions": Question, "arguments": Argument}


def _derived(cls: type) -> dict[str, str]:
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        found |= DERIVED.get(klass.__name__, {})
    return found


@pytest.mark.parametrize("resource", list(CLASSES))
def test_every_schema_field_has_a_place_in_the_model(resource):
    registry = read_registry(DESCRIPTOR)
    places = {f.name for f in dataclasses.fields(CLASSES[resource])}
    missing = [f.name for f in registry[resource].fields if FIELD_PLACES.get(f.name, f.name) not in places]
    assert missing == [], f"{resource}: schema fields with no place in the model: {missing}"


@pytest.mark.parametrize("resource", list(CLASSES))
def test_every_model_field_has_a_source(resource):
    registry = read_registry(DESCRIPTOR)
    from_schema = {FIELD_PLACES.get(f.name, f.name) for f in registry[resource].fields}
    derived = _derived(CLASSES[resource])
    orphans = [
        f.name
        for f in dataclasses.fields(CLASSES[resource])
        if f.name not in from_schema and f.name not in derived
    ]
    assert orphans == [], f"{resource}: model fields with no source: {orphans}"
    # A field both filled from the schema and said to be derived would have two sources.
    assert not (from_schema & set(derived)), f"{resource}: fields with two sources"


@pytest.mark.parametrize("resource", list(CLASSES))
def test_model_needs_match_the_dataclasses_and_the_descriptor(resource):
    hints = {f.name: str(f.type) for f in dataclasses.fields(CLASSES[resource])}
    for name, kind in MODEL_NEEDS[resource].items():
        place = FIELD_PLACES.get(name, name)
        assert place in hints, f"{resource}.{name} is needed but has no place"
        if kind == "integer":
            assert "int" in hints[place], f"{resource}.{name} is an integer in the schema, not in the model"
    resource_json = next(r for r in DESCRIPTOR["resources"] if r["name"] == resource)
    assert contract_problems(resource_json) == []


def test_the_descriptor_is_the_one_source_of_markdown_fields():
    registry = read_registry(DESCRIPTOR)
    marked = {
        (r["name"], f["name"])
        for r in DESCRIPTOR["resources"]
        for f in r.get("schema", {}).get("fields", [])
        if f.get(MARKDOWN) is True
    }
    assert marked == {(name, f) for name, fields in registry.text_fields.items() for f in fields}
    # Every Markdown field but the questions list says so in its description, for the data dictionary's readers.
    for resource, field in marked:
        schema = next(r for r in DESCRIPTOR["resources"] if r["name"] == resource)["schema"]
        spec = next(f for f in schema["fields"] if f["name"] == field)
        assert field == "discussion_questions" or "Markdown" in spec["description"], (resource, field)


def test_a_dropped_or_retyped_field_breaks_the_contract():
    terms = json.loads(json.dumps(next(r for r in DESCRIPTOR["resources"] if r["name"] == "terms")))
    terms["schema"]["fields"] = [f for f in terms["schema"]["fields"] if f["name"] != "definition"]
    next(f for f in terms["schema"]["fields"] if f["name"] == "era_start")["type"] = "string"
    fields = sorted(field for field, _message, _hint in contract_problems(terms))
    assert fields == ["terms.definition", "terms.era_start"]


def test_the_model_reads_lists_and_markdown_flags_from_the_registry():
    sources = load_project(ROOT)
    site = build_model(sources, Bibliography.parse(sources.bib_text)[0])
    client = site.terms["client"]
    assert isinstance(client.sectors, tuple) and client.sectors
    assert client.text_fields == read_registry(DESCRIPTOR).markdown_fields("terms")
    assert "definition" in client.text_fields and "label" not in client.text_fields
    assert client.definition in site.texts.citations
