"""Source (schema): the record-type registry, read once from the data package's descriptor.

Each record resource (terms, concepts, cases, questions, arguments) is declared in ``datapackage.json``
and nowhere else: its fields, their types, which are required, and, through properties of the guide's own
that Frictionless ignores, which hold Markdown (``"coguide:markdown": true``), which are lists
(``"coguide:list": "semicolon"`` or ``"line"``), which are web links (``"coguide:link": true``) and what
``coguide new`` writes in a new record's cell (``"coguide:prompt"``). Validation, the house rules, the model,
the exports and the tools read this registry instead of keeping lists of their own.

The descriptor is edited by pull requests, so nothing here decides what is safe: a field's flags choose which
checks run and which texts the model parses for citations, while the pages escape every plain field and pass
every Markdown one through the safe renderer whatever the flags say. What the model needs from the descriptor
(each field and its type) is checked by `contract_problems` before anything else reads the tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: The resources whose rows are records, in the order the site shows them.
RECORD_RESOURCES: tuple[str, ...] = ("terms", "concepts", "cases", "questions", "arguments")
#: The descriptor properties the guide adds to a field (Frictionless ignores them).
MARKDOWN = "coguide:markdown"
LIST = "coguide:list"
LINK = "coguide:link"
PROMPT = "coguide:prompt"

ListKind = Literal["", "semicolon", "line"]


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One field of a record resource, as the descriptor declares it.

    Attributes:
        name: The column name.
        type: The Frictionless type (``string``, ``integer``).
        required: Whether every row must fill it.
        markdown: The cell is Markdown: its citations are checked, parsed into the model and linked.
        list: ``semicolon`` or ``line`` when the cell holds several values, else "".
        link: The cell is a web address.
        prompt: What ``coguide new`` writes in a new record's cell ("" when it writes a default).
        title: The field's title, else its name.
    """

    name: str
    type: str = "string"
    required: bool = False
    markdown: bool = False
    list: ListKind = ""
    link: bool = False
    prompt: str = ""
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class RecordType:
    """A record resource: its name, its table and its fields in column order."""

    name: str
    path: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        """Return the field called `name`, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def markdown_fields(self) -> tuple[str, ...]:
        """Return the names of the fields that hold Markdown, in column order."""
        return tuple(f.name for f in self.fields if f.markdown)

    @property
    def prompts(self) -> dict[str, str]:
        """Return the instruction `coguide new` writes in each field that has one."""
        return {f.name: f.prompt for f in self.fields if f.prompt}


@dataclass(frozen=True)
class Registry(Mapping[str, RecordType]):
    """Every record resource the descriptor declares, by name, in `RECORD_RESOURCES` order."""

    types: tuple[RecordType, ...]

    def __getitem__(self, name: str) -> RecordType:
        """Return one record type by resource name."""
        for record_type in self.types:
            if record_type.name == name:
                return record_type
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the resource names."""
        return iter(t.name for t in self.types)

    def __len__(self) -> int:
        """Return how many record resources there are."""
        return len(self.types)

    def markdown_fields(self, resource: str) -> tuple[str, ...]:
        """Return the Markdown fields of `resource` (none for a resource the descriptor lacks)."""
        return self[resource].markdown_fields if resource in self else ()

    @property
    def text_fields(self) -> dict[str, tuple[str, ...]]:
        """Return the Markdown fields of every record resource that has any."""
        return {t.name: t.markdown_fields for t in self.types if t.markdown_fields}


def _spec(field: Mapping[str, Any]) -> FieldSpec:
    constraints = field.get("constraints")
    required = isinstance(constraints, dict) and constraints.get("required") is True
    kind = field.get(LIST)
    return FieldSpec(
        name=str(field.get("name", "")),
        type=str(field.get("type", "string")),
        required=required,
        markdown=field.get(MARKDOWN) is True,
        list=kind if kind in ("semicolon", "line") else "",
        link=field.get(LINK) is True,
        prompt=field[PROMPT] if isinstance(field.get(PROMPT), str) else "",
        title=str(field.get("title") or field.get("name", "")),
    )


def read_registry(descriptor: Mapping[str, Any]) -> Registry:
    """Return the record types a descriptor declares (a malformed resource or field is left out).

    Args:
        descriptor: The data package descriptor as parsed JSON (the guard has already refused unsafe parts).
    """
    found: dict[str, RecordType] = {}
    for resource in descriptor.get("resources", []) or []:
        if not isinstance(resource, dict) or resource.get("name") not in RECORD_RESOURCES:
            continue
        schema = resource.get("schema")
        fields = schema.get("fields", []) if isinstance(schema, dict) else []
        found[str(resource["name"])] = RecordType(
            name=str(resource["name"]),
            path=str(resource.get("path", "")),
            fields=tuple(_spec(f) for f in fields if isinstance(f, dict) and f.get("name")),
        )
    return Registry(tuple(found[name] for name in RECORD_RESOURCES if name in found))


#: What the model reads from each record resource: every field and its Frictionless type. A descriptor that
#: drops one, or changes its type, is refused before the tables are read (see `contract_problems`).
MODEL_NEEDS: dict[str, dict[str, str]] = {
    "terms": {
        "id": "string",
        "label": "string",
        "also_known_as": "string",
        "definition": "string",
        "relationship": "string",
        "power": "string",
        "sectors": "string",
        "era": "string",
        "era_start": "integer",
        "history": "string",
        "critiques": "string",
        "main_critique": "string",
        "discussion_questions": "string",
        "aliases": "string",
    },
    "concepts": {
        "id": "string",
        "name": "string",
        "also_known_as": "string",
        "summary": "string",
        "body": "string",
        "broader": "string",
        "discussion_questions": "string",
        "aliases": "string",
    },
    "cases": {
        "id": "string",
        "title": "string",
        "start_year": "integer",
        "end_year": "integer",
        "country": "string",
        "sector": "string",
        "level": "string",
        "kind": "string",
        "summary": "string",
        "outcomes": "string",
        "critiques": "string",
        "source_url": "string",
        "discussion_questions": "string",
        "aliases": "string",
    },
    "questions": {"id": "string", "question": "string", "summary": "string"},
    "arguments": {
        "id": "string",
        "question": "string",
        "stance": "string",
        "claim": "string",
        "reasoning": "string",
        "proponent": "string",
    },
}

#: Fields the model cannot do without in any row: ids, names, years and the links between records.
MODEL_REQUIRED: dict[str, tuple[str, ...]] = {
    "terms": ("id", "label", "era_start"),
    "concepts": ("id", "name"),
    "cases": ("id", "title", "start_year"),
    "questions": ("id", "question"),
    "arguments": ("id", "question", "stance"),
}


def unmarked_markdown(resource: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return a (message, hint) when a record resource marks no field as Markdown, else None.

    Such a descriptor (one written before the flag, say) is safe: every page still escapes plain fields and
    renders Markdown through the safe renderer. But none of the resource's text is then checked for
    citations or unsafe markup, and no citation in it reaches the reference lists or the bibliography's
    back-links, so the site would quietly lose them.
    """
    name = str(resource.get("name", ""))
    schema = resource.get("schema")
    if name not in MODEL_NEEDS or not isinstance(schema, dict):
        return None
    fields = [f for f in schema.get("fields", []) or [] if isinstance(f, dict)]
    if any(f.get(MARKDOWN) is True for f in fields):
        return None
    return (
        f"{name}: no field is marked as Markdown, so no citation in its text is checked or listed",
        f'add "{MARKDOWN}": true to each field of {name} that holds Markdown, as the data dictionary shows',
    )


def contract_problems(resource: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Return what a record resource's schema lacks for the model, as (field, message, hint) triples.

    Each field in `MODEL_NEEDS` must be declared with its type, and each in `MODEL_REQUIRED` must be required.
    Fields the model does not read may be added freely; they are published but not shown.
    """
    name = str(resource.get("name", ""))
    needs = MODEL_NEEDS.get(name)
    if needs is None:
        return []
    schema = resource.get("schema")
    declared = {
        str(f.get("name")): f
        for f in (schema.get("fields", []) if isinstance(schema, dict) else [])
        if isinstance(f, dict)
    }
    found: list[tuple[str, str, str]] = []
    for field, kind in needs.items():
        spec = declared.get(field)
        if spec is None:
            found.append(
                (
                    f"{name}.{field}",
                    f'{name}: the field "{field}" is missing; the generator needs it ({kind})',
                    f'restore {{"name": "{field}", "type": "{kind}"}} in the {name} schema',
                )
            )
        elif spec.get("type", "string") != kind:
            found.append(
                (
                    f"{name}.{field}",
                    f'{name}: the field "{field}" is of type "{spec.get("type", "string")}", '
                    f'the generator needs "{kind}"',
                    f'write "type": "{kind}" for {field} in the {name} schema',
                )
            )
        elif field in MODEL_REQUIRED.get(name, ()) and _spec(spec).required is not True:
            found.append(
                (
                    f"{name}.{field}",
                    f'{name}: the field "{field}" is not required, and every {name} row needs it',
                    f'restore "constraints": {{"required": true}} for {field} in the {name} schema',
                )
            )
    return found
