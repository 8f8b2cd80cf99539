"""Scaffold: ``coguide new`` starts a record or an essay from a valid skeleton.

A new record is one row appended to its CSV table, with every column in schema order. Required text
cells hold an instruction to the contributor ("Write a one-sentence definition ..."), and fixed
vocabularies and numbers a valid default, so the row fits the schema straight away; ``coguide check``
then lists each instruction still to replace (``placeholder-text``) and, until the record cites a
source, ``uncited-record``. A new essay is a Markdown file with valid front matter whose prompts
``coguide check`` reports in the same way, with the essay rules it does not meet yet (length, citations).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path
from typing import Any

from coguide.source.load import DATA_DIR, DESCRIPTOR, POSTS_DIR, Table, load_project
from coguide.source.rules import ESSAY_TEMPLATE
from coguide.source.schema import PROMPT, RECORD_RESOURCES
from coguide.text import slugify

#: The record kinds `coguide new` makes, and the resource (CSV table) each lives in. Questions are written by
#: the editors with their arguments, so there is no skeleton for one.
RECORD_KINDS: dict[str, str] = {
    name.removesuffix("s"): name for name in RECORD_RESOURCES if name != "questions"
}

#: Defaults for constrained cells, where the schema's first allowed value would be a poor guess.
DEFAULTS: dict[str, dict[str, str]] = {
    "terms": {"sectors": "public-services"},
    "cases": {"sector": "public-services"},
}

#: The column that names a record in running text; it must be unique, so it is derived from the id.
NAME_FIELDS: dict[str, str] = {"terms": "label", "concepts": "name", "cases": "title"}

#: Link tables a contributor fills in next, by resource.
LINK_TABLES: dict[str, str] = {
    "terms": "term_concepts.csv, case_terms.csv, argument_terms.csv",
    "concepts": "term_concepts.csv, case_concepts.csv, concept_related.csv, argument_concepts.csv",
    "cases": "case_concepts.csv, case_terms.csv",
    "arguments": "argument_concepts.csv, argument_terms.csv",
}

#: The longest slug `coguide new` suggests or gives an essay's file name, cut at a word boundary.
MAX_SLUG = 80


class ScaffoldError(Exception):
    """A reason the skeleton cannot be made; the message tells the contributor what to do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("kind", choices=(*RECORD_KINDS, "essay"))
    parser.add_argument("name", help="the new record's id, or the essay's title")
    parser.add_argument(
        "--question",
        help="for an argument: the id of the question it answers "
        "(default: the first question in questions.csv)",
    )


def run(args: argparse.Namespace) -> int:
    """Create the skeleton and say what to fill in; exit 2 (changing nothing) if it cannot be made."""
    root = Path(args.project).resolve()
    try:
        if not (root / DESCRIPTOR).is_file():
            raise ScaffoldError(
                f"{root} is not a coguide project (no {DESCRIPTOR}); "
                "run the command in the project folder or pass --project DIR"
            )
        if args.kind == "essay":
            path = new_essay(root, args.name)
            print(
                f"{path.relative_to(root).as_posix()}:1: created the essay; replace each sentence that "
                "starts with 'Write', then run `coguide check`"
            )
        else:
            rel, line, fields = new_record(root, args.kind, args.name, question=args.question)
            named = NAME_FIELDS.get(RECORD_KINDS[args.kind])
            check = f" and check the {named} made from the id" if named else ""
            print(
                f'{rel}:{line}: added the {args.kind} "{args.name}"; write the real text in '
                f"{', '.join(fields)}{check}, then run `coguide check`"
            )
            print(
                f"Link it to other records in {LINK_TABLES[RECORD_KINDS[args.kind]]}, "
                "and list its sources in citations.csv."
            )
    except ScaffoldError as exc:
        print(f"coguide new: {exc}", file=sys.stderr)
        return 2
    return 0


# --------------------------------------------------------------------------------------------- records


def _constraints(field: dict[str, Any]) -> dict[str, Any]:
    return field.get("constraints") or {}


def _resource(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    for resource in descriptor.get("resources", []):
        if isinstance(resource, dict) and resource.get("name") == name:
            return resource
    raise ScaffoldError(f'{DESCRIPTOR} has no resource "{name}"; restore it from the repository')


def _check_id(record_id: str, id_field: dict[str, Any], table: Table) -> None:
    pattern = _constraints(id_field).get("pattern", r"^[a-z0-9]+(-[a-z0-9]+)*$")
    max_length = _constraints(id_field).get("maxLength")
    if not re.fullmatch(pattern, record_id) or (max_length and len(record_id) > max_length):
        suggestion = slugify(record_id, max_length=MAX_SLUG)
        hint = f' (try "{suggestion}")' if suggestion and suggestion != record_id else ""
        limit = f", at most {max_length} characters" if max_length else ""
        raise ScaffoldError(
            f'"{record_id}" is not a valid id: use lower-case letters and digits '
            f"joined by single hyphens{limit}{hint}"
        )
    for row in table.rows:
        if row.values.get("id") == record_id:
            raise ScaffoldError(
                f'{table.path}:{row.line}: the id "{record_id}" is already used; choose another id'
            )
        aliases = {a.strip() for a in row.values.get("aliases", "").split(";")}
        if record_id in aliases:
            raise ScaffoldError(
                f'{table.path}:{row.line}: "{record_id}" is a former id of '
                f'"{row.values.get("id")}", whose address it redirects to; choose another id'
            )


def _foreign_table(resource: dict[str, Any], tables: dict[str, Table], field_name: str) -> Table | None:
    for fk in resource.get("schema", {}).get("foreignKeys", []):
        if fk.get("fields") == field_name:
            return tables.get(fk.get("reference", {}).get("resource") or resource.get("name", ""))
    return None


def _cell(
    resource: dict[str, Any],
    field: dict[str, Any],
    record_id: str,
    tables: dict[str, Table],
    chosen: str | None,
) -> str:
    """Return the skeleton's value for one cell."""
    name, kind = field.get("name", ""), resource.get("name", "")
    constraints = _constraints(field)
    if name == "id":
        return record_id
    if name == NAME_FIELDS.get(kind):
        words = record_id.replace("-", " ")
        return words[:1].upper() + words[1:] if kind == "cases" else words
    if isinstance(field.get(PROMPT), str) and field[PROMPT]:
        return str(field[PROMPT])
    if not constraints.get("required"):
        return ""
    if name in DEFAULTS.get(kind, {}):
        return DEFAULTS[kind][name]
    target = _foreign_table(resource, tables, name)
    if target is not None:
        return _reference(target, name, chosen)
    if "enum" in constraints:
        return str(constraints["enum"][0])
    if field.get("type") == "integer":
        low, high = constraints.get("minimum", dt.date.today().year), constraints.get("maximum")
        year = max(low, dt.date.today().year)
        return str(min(year, high) if high is not None else year)
    return f"Write the {str(field.get('title', name)).lower()}."


def _reference(target: Table, name: str, chosen: str | None) -> str:
    """Return the id a new row points at: the one chosen on the command line, or the table's first."""
    ids = [row.values.get("id", "") for row in target.rows]
    if chosen is not None:
        if chosen not in ids:
            raise ScaffoldError(
                f'--{name} "{chosen}" is not an id in {target.path}; '
                f"choose one of: {', '.join(ids) or '(none yet)'}"
            )
        return chosen
    if not ids:
        raise ScaffoldError(
            f"the new row needs a {name}, and {target.path} has none yet; add one there first"
        )
    return ids[0]


def _id_field(resource: dict[str, Any]) -> dict[str, Any]:
    return next((f for f in resource.get("schema", {}).get("fields", []) if f.get("name") == "id"), {})


def _check_cell(table: Table, field: dict[str, Any], value: str) -> None:
    """Refuse a skeleton cell that would break the schema (the schema changed since this code was written)."""
    constraints = _constraints(field)
    pattern, enum = constraints.get("pattern"), constraints.get("enum")
    max_length = constraints.get("maxLength")
    if value and (
        (pattern and not re.fullmatch(pattern, value))
        or (enum and value not in enum)
        or (max_length and len(value) > max_length)
    ):
        raise ScaffoldError(
            f'{table.path}: the skeleton\'s value "{value}" for "{field.get("name")}" '
            "does not fit the schema; add the row by hand (see the data dictionary)"
        )
    if value and constraints.get("unique"):
        for row in table.rows:
            if row.values.get(field.get("name", ""), "").casefold() == value.casefold():
                raise ScaffoldError(
                    f'{table.path}:{row.line}: "{value}" is already the '
                    f'{field.get("name")} of "{row.values.get("id")}"; choose a different id'
                )


def new_record(
    root: Path, kind: str, record_id: str, *, question: str | None = None
) -> tuple[str, int, list[str]]:
    """Append a skeleton row for a new record to its table.

    Args:
        root: The project folder.
        kind: ``term``, ``concept``, ``case`` or ``argument``.
        record_id: The new record's id.
        question: For an argument, the question it answers (default: the first question).

    Returns:
        The table's path relative to the project, the line of the new row, and the cells to write.

    Raises:
        ScaffoldError: The id is invalid or taken, or the table cannot be read; nothing was written.
    """
    resource_name = RECORD_KINDS[kind]
    sources = load_project(root)
    resource = _resource(sources.descriptor, resource_name)
    table = sources.tables.get(resource_name)
    if table is None or not table.readable:
        raise ScaffoldError(
            f"{DATA_DIR}/{resource.get('path')} cannot be read; run `coguide check` and fix it first"
        )
    fields = resource.get("schema", {}).get("fields", [])
    if list(table.header) != [f.get("name") for f in fields]:
        expected = ",".join(f.get("name", "") for f in fields)
        raise ScaffoldError(f"{table.path}:1: the header is not {expected}; fix it first")
    _check_id(record_id, _id_field(resource), table)
    if question is not None and kind != "argument":
        raise ScaffoldError("--question is only for new arguments")
    values = [_cell(resource, field, record_id, sources.tables, question) for field in fields]
    for field, value in zip(fields, values, strict=True):
        _check_cell(table, field, value)
    line = _append_row(root / table.path, values)
    prompts = sources.registry[resource_name].prompts
    to_fill = [f["name"] for f, v in zip(fields, values, strict=True) if prompts.get(f["name"]) == v]
    return table.path, line, to_fill


def _append_row(path: Path, values: list[str]) -> int:
    """Append one CSV row, keeping the file's line endings; return the line it starts on."""
    data = path.read_bytes()
    newline = "\r\n" if b"\r\n" in data else "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerow(values)
    prefix = newline if data and not data.endswith(b"\n") else ""
    with path.open("ab") as handle:
        handle.write((prefix + buffer.getvalue()).encode("utf-8"))
    return data.count(b"\n") + (2 if prefix else 1)


# --------------------------------------------------------------------------------------------- essays


def new_essay(root: Path, title: str, *, today: dt.date | None = None) -> Path:
    """Create ``docs/blog/posts/<slug>.md`` with front matter, the title and prompts for each part.

    Raises:
        ScaffoldError: The title is empty or the file already exists; nothing was written.
    """
    title = " ".join(title.split())
    slug = slugify(title, max_length=MAX_SLUG)
    if not slug:
        raise ScaffoldError(
            f'"{title}" has no letters or digits to make a file name from; give the essay a title'
        )
    path = root / POSTS_DIR / f"{slug}.md"
    if path.exists():
        raise ScaffoldError(
            f"{path.relative_to(root).as_posix()} already exists; choose another title or edit that essay"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    content = ESSAY_TEMPLATE.format(date=(today or dt.date.today()).isoformat(), title=title)
    with path.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
    return path
