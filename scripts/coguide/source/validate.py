"""Validate: Frictionless checks plus the guide's own rules; returns ALL problems, never stops at the first.

The cite stage is a leaf library (it depends only on pybtex), so validation uses its citation parser and
BibTeX diagnostics rather than writing its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coguide.cite import Bibliography, Citation, find_citations
from coguide.errors import Problem
from coguide.forked import Helper, can_fork
from coguide.markup import MarkupIssue, find_unsafe_markup
from coguide.outputs import GENERATED_AMONG_WRITTEN, GENERATED_ONLY
from coguide.source.frontmatter import check_front_matter
from coguide.source.guard import PRIMARY_KEYS, excerpt
from coguide.source.load import AUTHORS, CONFIG, DESCRIPTOR, Row, Sources, Table, cell_line
from coguide.source.rules import check_house_rules, check_references
from coguide.text import SLUG, slugify

_HEADER_ERRORS = {
    "incorrect-label",
    "missing-label",
    "extra-label",
    "duplicate-label",
    "blank-label",
    "blank-header",
}
_ROW_ERRORS = {
    "type-error",
    "constraint-error",
    "primary-key",
    "unique-error",
    "foreign-key",
    "missing-cell",
    "extra-cell",
    "blank-row",
}


@dataclass(frozen=True, kw_only=True)
class CitationUse:
    """One citation of a bibliography key somewhere in the sources."""

    key: str
    path: str
    line: int


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """Return a ``did you mean "x"?`` hint for a near-miss, or an empty string."""
    match = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f'did you mean "{match[0]}"?' if match else ""


# --- Frictionless -------------------------------------------------------------------------------------------


def _frictionless_message(error: Any, header: int = 0) -> tuple[str, str]:
    kind = error.type
    cell = getattr(error, "cell", "")
    field = getattr(error, "field_name", "")
    note = getattr(error, "note", "")
    if kind == "type-error":
        found = re.search(r'type is "(\w+)', note)
        expected = found.group(1) if found else "value"
        hint = (
            "write a whole number"
            if expected == "integer"
            else "check the data dictionary for the field's type"
        )
        return f'"{excerpt(cell)}" is not a valid {expected} for field "{field}"', hint
    if kind == "constraint-error":
        if "required" in note:
            return f'field "{field}" is required but empty', f'fill in "{field}"'
        slug = slugify(cell)
        hint = (
            f'write it as "{slug}"'
            if "pattern" in note and SLUG.fullmatch(slug) and slug != cell
            else "see the field in the data dictionary"
        )
        return f'field "{field}" value "{excerpt(cell)}" {explain_constraint(note, cell)}', hint
    if kind == "primary-key":
        return (
            "this row repeats the id (primary key) of an earlier row",
            "ids must be unique: rename one of them",
        )
    if kind == "unique-error":
        return f'field "{field}" value "{excerpt(cell)}" is already used by another row', "make it unique"
    if kind in ("missing-cell", "extra-cell"):
        return row_shape_message(len(getattr(error, "cells", ()) or ()), header)
    if kind == "blank-row":
        return "the row is blank", "delete the empty row"
    return error.message, ""


#: Frictionless stops validating a table after this many errors; the check says so when it happens.
LIMIT_ERRORS = 1000

#: What every id looks like (the Table Schema's pattern, repeated here for hints).
_ID_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
_CONSTRAINT = re.compile(r'constraint "(\w+)" is "(.*)"', re.DOTALL)


def row_shape_message(cells: int, header: int) -> tuple[str, str]:
    """Say how a row's cell count differs from its header's, and how to mend it (a missing-cell or extra-cell)."""
    if cells < header:
        missing = header - cells
        return (
            f"this row has {cells} cell{'s' if cells != 1 else ''} but the header has {header}: "
            f"{missing} cell{'s are' if missing > 1 else ' is'} missing; unless it was the last, every cell "
            f"after the gap has moved {'one column' if missing == 1 else f'{missing} columns'} to the left",
            "add the comma where a cell was left out: an empty cell is still written, as ,,",
        )
    extra = cells - header
    return (
        f"this row has {cells} cells but the header has {header}: {extra} cell{'s' if extra > 1 else ''} too many, "
        "usually a comma inside a text that is not in double quotes",
        'wrap a cell that contains a comma in double quotes: "like, this"',
    )


def explain_constraint(note: str, cell: str) -> str:
    """Explain a broken Table Schema constraint in words, instead of quoting its regular expression."""
    found = _CONSTRAINT.search(note)
    if found is None:
        return f"breaks a rule: {note}"
    name, value = found.groups()
    if name == "enum":
        allowed = re.findall(r"'([^']*)'", value)
        return f"is not one of the allowed values: {', '.join(allowed)}"
    if name == "maxLength":
        return f"is {len(cell)} characters long; at most {value} are allowed"
    if name in ("minimum", "maximum"):
        return f"is {'below the minimum' if name == 'minimum' else 'above the maximum'} of {value}"
    if name == "pattern":
        if value == _ID_PATTERN:
            return 'is not a valid id: use lower-case letters and digits joined by single hyphens, such as "service-user"'
        choices = re.match(r"\^\(([a-z0-9|-]+)\)", value)
        if choices:
            return f'must be one or more of {", ".join(choices.group(1).split("|"))}, separated by "; "'
        if value.startswith("^([a-z0-9]+(-[a-z0-9]+)*)?"):
            return 'must be ids (lower-case letters and digits joined by single hyphens) separated by "; "'
        if value.startswith("^https?://"):
            return "must be a web address starting with http:// or https://, without spaces"
        if value == "^.+\\?$":
            return "must end with a question mark"
        if value.startswith("^((p|pp|chap|sec|para)"):
            return 'must be a locator such as "p. 12", "pp. 3-5" or "chap. 2"'
        return "does not have the form the data dictionary gives for this field"
    return f"breaks the {name} rule ({value})"


class IdIndex:
    """The ids of one table, with its malformed ids mapped to the slugs they were meant to be.

    Built once per target table, so checking every link costs one set lookup.
    """

    def __init__(self, target: Table, key: str = "id") -> None:
        self.target = target
        self.key = key
        self.ids = {row.values.get(key, "") for row in target.rows} - {""}
        self.valid = {i for i in self.ids if SLUG.fullmatch(i)}
        self.malformed = {
            slugify(i): row for row in target.rows if (i := row.values.get(key, "")) and not SLUG.fullmatch(i)
        }

    def __contains__(self, value: str) -> bool:
        return value in self.ids

    def hint(self, value: str) -> str:
        """Say how to mend a link to `value`, which the table lacks."""
        meant = self.malformed.get(value)
        if meant is not None:
            return (
                f'fix the malformed id "{meant.values.get(self.key, "")}" at {self.target.path}:{meant.line}'
            )
        return did_you_mean(value, self.valid) or f"add a row with id {value!r} to {self.target.path}"


def _link_problems(
    table: Table, field: str, code: str, broken: list[tuple[Row, str, IdIndex]]
) -> list[Problem]:
    """Turn broken links into problems, one per link, except links to a malformed id.

    Every link to a malformed id is mended by fixing that one row, so they are reported together:
    one problem per file and field, on the first such link, listing the other lines.
    """
    problems: list[Problem] = []
    grouped: dict[tuple[str, str], list[int]] = {}
    hints: dict[tuple[str, str], str] = {}
    for row, value, index in broken:
        line = cell_line(table, row.values, row.line, field)
        message = f'{field} "{value}" is not an id in {index.target.path}'
        hint = index.hint(value)
        if value in index.malformed:
            group = (index.target.path, value)
            grouped.setdefault(group, []).append(line)
            hints[group] = hint
            continue
        problems.append(
            Problem(path=table.path, line=line, code=code, message=message, hint=hint, field=field)
        )
    for (target_path, value), lines in grouped.items():
        where = ""
        if len(lines) > 1:
            others = ", ".join(str(n) for n in lines[1:])
            where = f" (here and on line{'s' if len(lines) > 2 else ''} {others})"
        message = f'{field} "{value}"{where} is not an id in {target_path}'
        problems.append(
            Problem(
                path=table.path,
                line=lines[0],
                code=code,
                message=message,
                hint=hints[(target_path, value)],
                field=field,
            )
        )
    return problems


def _foreign_key_problems(
    table: Table, tables: dict[str, Table], fks: list[dict[str, Any]], skip: Iterable[int] = ()
) -> list[Problem]:
    """Report links to ids the target table lacks, leaving out rows numbered in `skip` (misshapen rows)."""
    skipped = set(skip)
    problems: list[Problem] = []
    for fk in fks:
        field = fk.get("fields")
        reference = fk.get("reference", {})
        if not isinstance(field, str):
            continue
        target_name = reference.get("resource") or table.name
        target = tables.get(target_name)
        if target is None or not target.readable:
            continue
        index = IdIndex(target, reference.get("fields", "id"))
        broken = [
            (row, value, index)
            for row in table.rows
            if (value := row.values.get(field, "")) and value not in index and row.number not in skipped
        ]
        problems.extend(_link_problems(table, field, "foreign-key", broken))
    return problems


def _frictionless_key(sources: Sources, resource: dict[str, Any]) -> str:
    """Return what one table's Frictionless result depends on: its resource descriptor and its file's bytes."""
    table = sources.tables[resource["name"]]
    try:
        data = (sources.root / table.path).read_bytes()
    except OSError:
        data = b""
    digest = hashlib.sha256(json.dumps(resource, sort_keys=True).encode("utf-8"))
    digest.update(b"\0" + data)
    return digest.hexdigest()


def validate_frictionless(
    sources: Sources, cache: dict[str, tuple[str, list[Problem], set[int]]] | None = None
) -> list[Problem]:
    """Run Frictionless over the whole package and translate its report into problems with editor lines.

    Args:
        sources: What the load stage read.
        cache: Frictionless's problems per table from an earlier run, keyed by table name with the digest of
            its descriptor and file (`_frictionless_key`); tables whose digest is unchanged are not validated
            again, and the cache is updated. Our own foreign-key pass always runs (it spans tables).
    """
    from frictionless import FrictionlessException, Package

    descriptor_path = sources.root / DESCRIPTOR
    if not sources.descriptor:
        return []
    # Foreign keys are checked by our own pass (with did-you-mean hints), so Frictionless need not build
    # its lookup tables, which costs more than the rest of its validation together.
    descriptor = json.loads(json.dumps(sources.descriptor))
    # Frictionless opens every resource itself: only tables that loading read as ordinary files are given to it
    # (a named pipe would block it forever; a refused symlink would be followed).
    # The bibliography is not a table: its own parser checks it.
    readable = {name for name, table in sources.tables.items() if table.readable}
    descriptor["resources"] = [
        r for r in descriptor.get("resources", []) if isinstance(r, dict) and r.get("name") in readable
    ]
    for resource in descriptor["resources"]:
        if isinstance(resource, dict) and isinstance(resource.get("schema"), dict):
            resource["schema"].pop("foreignKeys", None)
    order = [r["name"] for r in descriptor["resources"]]
    keys = (
        {r["name"]: _frictionless_key(sources, r) for r in descriptor["resources"]}
        if cache is not None
        else {}
    )
    reused = (
        {name for name, key in keys.items() if name in cache and cache[name][0] == key} if cache else set()
    )
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] not in reused]
    try:
        package = Package(descriptor, basepath=str(descriptor_path.parent))
        tasks = package.validate(limit_errors=LIMIT_ERRORS).tasks if descriptor["resources"] else []
    except FrictionlessException as exc:
        return [
            Problem(
                path=DESCRIPTOR,
                line=None,
                code="invalid-descriptor",
                message=str(exc.error.message),
                hint="compare with the data dictionary",
            )
        ]
    found: dict[str, tuple[list[Problem], set[int]]] = {}
    schemas = {r.get("name"): r.get("schema", {}) for r in sources.descriptor.get("resources", [])}
    for task in tasks:
        table = sources.tables.get(task.name)
        if table is None or not table.readable:
            continue
        problems: list[Problem] = []
        pk = schemas.get(task.name, {}).get("primaryKey", [])
        rows = {row.number: row for row in table.rows}
        # A row with too few or too many cells is reported once; the errors its shifted cells cause are not.
        misshapen = {e.row_number for e in task.errors if e.type in ("missing-cell", "extra-cell")}
        found[task.name] = (problems, misshapen)
        reported: set[int] = set()
        for error in task.errors:
            kind = error.type
            if kind == "foreign-key":
                # Reported by our own pass, which names the field and suggests the nearest id.
                continue
            number = getattr(error, "row_number", None)
            if number in misshapen:
                if number in reported or kind not in ("missing-cell", "extra-cell"):
                    continue
                reported.add(number)
                row = rows.get(number)
                message, hint = _frictionless_message(error, len(table.header))
                problems.append(
                    Problem(
                        path=table.path,
                        line=None if row is None else row.line,
                        code=kind,
                        message=message,
                        hint=hint,
                    )
                )
                continue
            if kind == "unique-error" and [getattr(error, "field_name", "")] == pk:
                continue  # the primary-key error already says it
            row = rows.get(getattr(error, "row_number", None))
            field = getattr(error, "field_name", "") or ""
            if kind in _HEADER_ERRORS:
                problems.append(
                    Problem(
                        path=table.path,
                        line=1,
                        code="header-error",
                        message=error.message,
                        hint="the header must be: " + ",".join(table.fields),
                    )
                )
                continue
            code = kind if kind in _ROW_ERRORS else "table-error"
            message, hint = _frictionless_message(error)
            # Frictionless numbers rows; contributors need the editor line of the cell itself.
            line = (
                None if row is None else cell_line(table, row.values, row.line, field) if field else row.line
            )
            problems.append(
                Problem(path=table.path, line=line, code=code, message=message, hint=hint, field=field)
            )
        if len(task.errors) >= LIMIT_ERRORS:
            problems.append(
                Problem(
                    path=table.path,
                    line=None,
                    code="errors-truncated",
                    message=f"validation of this table stopped after {LIMIT_ERRORS:,} problems; more may follow",
                    hint="fix the problems shown (often one cause explains many) and run the check again",
                )
            )
    if cache is not None:
        for name in keys.keys() - reused:
            cache[name] = (keys[name], *found.get(name, ([], set())))
    everything: list[Problem] = []
    for name in order:
        table = sources.tables.get(name)
        if table is None or not table.readable or (name not in found and name not in reused):
            continue
        own, misshapen = cache[name][1:] if name in reused and cache is not None else found[name]
        everything.extend(own)
        fks = schemas.get(name, {}).get("foreignKeys", [])
        everything.extend(_foreign_key_problems(table, sources.tables, fks, skip=misshapen))
    return everything


# --- Our own rules ------------------------------------------------------------------------------------------


def _ids(table: Table | None) -> set[str]:
    return {row.values.get("id", "") for row in table.rows} if table else set()


def text_cells(sources: Sources) -> Iterator[tuple[Table, str, int, str]]:
    """Yield every non-empty Markdown text cell (as the descriptor marks them) as (table, field, editor line, value)."""
    for table, row, field, value in _text_cells(sources):
        yield table, field, cell_line(table, row.values, row.line, field), value


def _text_cells(sources: Sources) -> Iterator[tuple[Table, Row, str, str]]:
    """Yield every non-empty Markdown text cell as (table, row, field, value).

    The checks that report on few cells count a cell's line (`cell_line`) only for those.
    """
    for name, fields in sources.registry.text_fields.items():
        table = sources.tables.get(name)
        if table is None:
            continue
        for row in table.rows:
            for field in fields:
                value = row.values.get(field, "")
                if value:
                    yield table, row, field, value


def _cell_texts(value: str, kind: str) -> list[tuple[int, str]]:
    """Return the Markdown texts of a cell as the model keeps them, each with its line's offset in the cell.

    A cell of one item per line (a record's discussion questions) holds one text per line, stripped, as the
    model splits it; the citations of each are parsed on their own, so that the model finds them parsed.
    """
    if kind != "line":
        return [(0, value)]
    return [(n, line.strip()) for n, line in enumerate(value.splitlines()) if line.strip()]


def collect_citation_uses(
    sources: Sources,
    parsed: dict[str, tuple[Citation, ...]] | None = None,
    earlier: Mapping[str, tuple[Citation, ...]] | None = None,
) -> list[CitationUse]:
    """Find every citation of a key: in text cells, in the citations table and in Markdown pages.

    Args:
        sources: What the load stage read.
        parsed: Where to keep each text's citations, by text, for the model (each text is parsed once).
        earlier: The texts an earlier run parsed (`ValidationCache.citations`): a text met again is not parsed
            again, so after an edit only the changed texts are.
    """
    found = parsed if parsed is not None else {}
    before = earlier if earlier is not None else {}

    def cites(text: str) -> tuple[Citation, ...]:
        if text not in found:
            known = before.get(text)
            found[text] = known if known is not None else tuple(find_citations(text))
        return found[text]

    uses: list[CitationUse] = []
    registry = sources.registry
    kinds = {
        (name, spec.name): spec.list for name, record_type in registry.items() for spec in record_type.fields
    }
    for table, row, field, value in _text_cells(sources):
        texts = _cell_texts(value, kinds.get((table.name, field), ""))
        line = None
        for offset, text in texts:
            citations = cites(text)
            if not citations:
                continue
            line = cell_line(table, row.values, row.line, field) if line is None else line
            for citation in citations:
                at = line + offset + citation.line - 1
                uses.extend(CitationUse(key=i.key, path=table.path, line=at) for i in citation.items)
    table = sources.tables.get("citations")
    if table is not None:
        for row in table.rows:
            key = row.values.get("key", "")
            if key:
                uses.append(
                    CitationUse(key=key, path=table.path, line=cell_line(table, row.values, row.line, "key"))
                )
    for doc in sources.documents:
        for citation in cites(doc.body):
            uses.extend(
                CitationUse(key=i.key, path=doc.path, line=doc.body_line + citation.line - 1)
                for i in citation.items
            )
    return uses


def check_citations(uses: list[CitationUse], bib: Bibliography) -> list[Problem]:
    """Report citations of keys that are not in the bibliography."""
    problems = []
    for use in uses:
        if use.key not in bib:
            suggestion = bib.suggest(use.key)
            hint = (
                f'did you mean "{suggestion}"?'
                if suggestion
                else "add the work to datapackage/references.bib"
            )
            problems.append(
                Problem(
                    path=use.path,
                    line=use.line,
                    code="unknown-citation",
                    message=f'citation key "{use.key}" is not in references.bib',
                    hint=hint,
                )
            )
    return problems


def check_unused(uses: list[CitationUse], bib: Bibliography, bib_path: str) -> list[Problem]:
    """Warn about works in the bibliography that nothing cites."""
    cited = {u.key for u in uses}
    return [
        Problem(
            path=bib_path,
            line=bib.line_of(key),
            code="unused-reference",
            message=f'"{key}" is not cited anywhere',
            hint="it appears under Further reading",
        )
        for key in bib.keys
        if key not in cited
    ]


def check_citation_records(sources: Sources) -> list[Problem]:
    """Report citations-table rows naming records that do not exist."""
    table = sources.tables.get("citations")
    if table is None:
        return []
    # One id index per resource, not per row: rebuilding it for every row made the check quadratic.
    indexes: dict[str, IdIndex] = {}
    broken: list[tuple[Row, str, IdIndex]] = []
    for row in table.rows:
        resource, record = row.values.get("resource", ""), row.values.get("record", "")
        target = sources.tables.get(resource)
        if target is None or not target.readable or not record:
            continue
        index = indexes.get(resource)
        if index is None:
            index = indexes[resource] = IdIndex(target)
        if record not in index:
            broken.append((row, record, index))
    return _link_problems(table, "record", "unknown-record", broken)


def check_self_links(sources: Sources) -> list[Problem]:
    """Report link rows (and broader concepts) that point a record at itself."""
    problems = []
    pairs = [("concept_related", "concept", "related"), ("concepts", "id", "broader")]
    for name, left, right in pairs:
        table = sources.tables.get(name)
        if table is None:
            continue
        for row in table.rows:
            a, b = row.values.get(left, ""), row.values.get(right, "")
            if a and a == b:
                problems.append(
                    Problem(
                        path=table.path,
                        line=cell_line(table, row.values, row.line, right),
                        code="self-link",
                        message=f'"{a}" links to itself in field "{right}"',
                        hint="delete the link",
                        field=right,
                    )
                )
    return problems


def check_aliases(sources: Sources) -> list[Problem]:
    """Report former ids that collide with a current id or with another record's alias."""
    problems = []
    for table in sources.tables.values():
        if "aliases" not in table.header:
            continue
        ids = _ids(table)
        seen: dict[str, str] = {}
        for row in table.rows:
            line = cell_line(table, row.values, row.line, "aliases")
            for alias in filter(None, (a.strip() for a in row.values.get("aliases", "").split(";"))):
                if alias in ids or alias in seen:
                    owner = (
                        "the id of another record" if alias in ids else f'also an alias of "{seen[alias]}"'
                    )
                    problems.append(
                        Problem(
                            path=table.path,
                            line=line,
                            code="alias-collision",
                            field="aliases",
                            message=f'alias "{alias}" of "{row.values.get("id", "")}" is {owner}',
                            hint="an old address can redirect to one page only: keep the alias on one record",
                        )
                    )
                else:
                    seen[alias] = row.values.get("id", "")
    return problems


#: What `find_unsafe_markup` found in each text (and whether the essay's excerpt mark was allowed).
MarkupMemo = dict[tuple[str, bool], list[MarkupIssue]]


def check_markup(sources: Sources, memo: MarkupMemo | None = None) -> list[Problem]:
    """Report raw HTML and unsafe links in data text cells and essays.

    Args:
        sources: What the load stage read.
        memo: The texts an earlier run checked, with what was found in each: a text met again is not parsed
            again, so after an edit only the changed cells are. Replaced by this run's texts.
    """
    found: MarkupMemo = {}
    earlier = memo if memo is not None else {}

    def unsafe(text: str, allow_excerpt_mark: bool = False) -> list[MarkupIssue]:
        key = (text, allow_excerpt_mark)
        issues = found.get(key)
        if issues is None:
            issues = earlier.get(key)
            if issues is None:
                issues = find_unsafe_markup(text, allow_excerpt_mark=allow_excerpt_mark)
            found[key] = issues
        return issues

    problems = []
    for table, row, field, value in _text_cells(sources):
        for issue in unsafe(value):
            problems.append(
                Problem(
                    path=table.path,
                    line=cell_line(table, row.values, row.line, field) + issue.line - 1,
                    code=issue.code,
                    message=f"{field}: {issue.message}",
                    hint=issue.hint,
                    field=field,
                )
            )
    for doc in sources.documents:
        for issue in unsafe(doc.body, doc.is_post):
            problems.append(
                Problem(
                    path=doc.path,
                    line=doc.body_line + issue.line - 1,
                    code=issue.code,
                    message=issue.message,
                    hint=issue.hint,
                )
            )
    if memo is not None:
        memo.clear()
        memo.update(found)
    return problems


def check_posts(sources: Sources) -> list[Problem]:
    """Report front matter that is not the supported keys and types, and essays with no ``# Title`` line."""
    problems = []
    # Front matter that did not parse was reported as read; its keys are not missing, just unread.
    unread = {p.path for p in sources.problems if p.code == "front-matter"}
    for doc in sources.documents:
        problems.extend(check_front_matter(doc, sources.authors, parsed=doc.path not in unread))
        if doc.is_post and not any(line.startswith("# ") for line in doc.body.splitlines()):
            problems.append(
                Problem(
                    path=doc.path,
                    line=doc.body_line,
                    code="front-matter",
                    message="the essay has no `# Title` line",
                    hint="add one after the front matter",
                )
            )
    return problems


#: Ids the site uses for its own pages in every section.
RESERVED_IDS = frozenset({"index", "compare"})
#: The record tables: their ids and aliases become page addresses.
RECORD_TABLES = tuple(name for name, key in PRIMARY_KEYS.items() if key == ("id",))


def check_ids(sources: Sources) -> list[Problem]:
    """Report ids and aliases that could not be safe page addresses, whatever the descriptor's patterns say.

    The descriptor's patterns are editable; this rule is the generator's own, so an id such as
    ``../../x`` can never become a path, even when a pull request drops the pattern from the schema.
    """
    problems = []
    for name in RECORD_TABLES:
        table = sources.tables.get(name)
        if table is None:
            continue
        for row in table.rows:
            values = [("id", row.values.get("id", ""))]
            values += [("aliases", a.strip()) for a in row.values.get("aliases", "").split(";") if a.strip()]
            for field, value in values:
                if not value and field == "id":
                    continue  # a missing id is a required-field problem
                reserved = value in RESERVED_IDS
                if SLUG.fullmatch(value) and not reserved and len(value) <= 80:
                    continue
                meant = slugify(value)
                hint = (
                    f'"{value}" is a name the site uses itself: choose another'
                    if reserved
                    else f'write it as "{meant}"'
                    if meant and SLUG.fullmatch(meant)
                    else "use lower-case letters and digits joined by single hyphens"
                )
                problems.append(
                    Problem(
                        path=table.path,
                        line=cell_line(table, row.values, row.line, field),
                        code="invalid-id",
                        field=field,
                        message=f'{field} "{excerpt(value)}" cannot be a page address',
                        hint=hint,
                    )
                )
    return problems


#: Files under docs/ that are published as they are, by folder: anything else is refused.
_PUBLISHED_AS_IS = {
    ".md": None,  # every page is checked as Markdown
    ".png": None,
    ".jpg": None,
    ".jpeg": None,
    ".gif": None,
    ".webp": None,
    ".svg": None,  # checked for scripts below
    ".css": ("docs/assets/",),
    ".js": ("docs/assets/",),
    ".html": ("docs/overrides/",),
    ".yml": ("docs/blog/.authors.yml",),
}
#: What an SVG image may not hold: scripts, event handlers, links out of the file, embedded documents.
_SVG_ACTIVE = re.compile(
    r"<\s*(script|foreignObject|iframe|embed|object)\b|\bon[a-z]+\s*=|(?:href|src)\s*=\s*[\"']?\s*"
    r"(?!#)[a-z][a-z0-9+.-]*:|<!ENTITY|@import",
    re.IGNORECASE,
)


def check_docs_files(sources: Sources) -> list[Problem]:
    """Report files under ``docs/`` that the engine would publish without the checks Markdown pages get."""
    problems = []
    for rel in sources.doc_files:
        if any(part.startswith(".") for part in Path(rel).parts[1:]) and rel != AUTHORS:
            continue  # the engine publishes no hidden file (its exclude_docs default is ".*")
        top = Path(rel).parts[1] if len(Path(rel).parts) > 1 else ""
        if top in GENERATED_ONLY:
            problems.append(
                Problem(
                    path=rel,
                    line=None,
                    code="unexpected-file",
                    message=f"docs/{top} is made by the generator from the data, and this file would clash "
                    "with what it makes there",
                    hint="move the page out of that folder; a record's page is edited in its row in datapackage/",
                )
            )
            continue
        if rel.removeprefix("docs/") in GENERATED_AMONG_WRITTEN:
            problems.append(
                Problem(
                    path=rel,
                    line=None,
                    code="unexpected-file",
                    message="this page is made by the generator, so a hand-written file here would clash with it",
                    hint="give your page another name; the generated one is made from datapackage/",
                )
            )
            continue
        suffix = Path(rel).suffix.lower()
        if suffix not in _PUBLISHED_AS_IS:
            problems.append(
                Problem(
                    path=rel,
                    line=None,
                    code="unexpected-file",
                    message=f"a {suffix or 'extension-less'} file would be published as it is",
                    hint="write pages in Markdown (.md); images may be PNG, JPEG, GIF, WebP or SVG",
                )
            )
            continue
        allowed = _PUBLISHED_AS_IS[suffix]
        if allowed is not None and not rel.startswith(allowed):
            problems.append(
                Problem(
                    path=rel,
                    line=None,
                    code="unexpected-file",
                    message=f"a {suffix} file here would be published (or run) unchecked",
                    hint=f"{suffix} files belong in {' or '.join(allowed)}, which maintainers review as code",
                )
            )
        elif suffix == ".svg":
            text = (sources.root / rel).read_bytes().decode("utf-8", "replace")
            found = _SVG_ACTIVE.search(text)
            if found:
                problems.append(
                    Problem(
                        path=rel,
                        line=text.count("\n", 0, found.start()) + 1,
                        code="unexpected-file",
                        message=f"the SVG image holds {excerpt(found.group(), 30)!r}, which could run or load",
                        hint="export the image without scripts, event handlers or links to other files",
                    )
                )
    return problems


#: Markdown extensions that read other files into a page.
_INCLUDE_EXTENSIONS = frozenset({"pymdownx.snippets", "markdown_include.include", "mdx_include"})
_HOOKS: tuple[str, ...] = ()  # the engine adapter adds its own hooks; mkdocs.yml needs none


def check_config(sources: Sources) -> list[Problem]:
    """Report engine settings that would let a page include other files or run other code at build time."""
    config = sources.config
    problems = []

    def refuse(message: str, hint: str, needle: str) -> None:
        text = (sources.root / CONFIG).read_text(encoding="utf-8-sig", errors="replace")
        index = text.find(needle)
        line = text.count("\n", 0, index) + 1 if index >= 0 else None
        problems.append(Problem(path=CONFIG, line=line, code="unsafe-config", message=message, hint=hint))

    for item in config.get("markdown_extensions") or []:
        name = next(iter(item)) if isinstance(item, dict) and item else item
        if isinstance(name, str) and name in _INCLUDE_EXTENSIONS:
            refuse(
                f'the "{name}" extension lets any page include any file of the project',
                "remove it: the generator writes included pages (such as CONTRIBUTING) itself",
                name,
            )
    hooks = config.get("hooks") or []
    for hook in hooks if isinstance(hooks, list) else [hooks]:
        if hook not in _HOOKS:
            refuse(
                f'hooks file "{excerpt(hook)}" would run at build time',
                "remove it: the engine adapter adds the only hooks the build needs",
                str(hook),
            )
    for key in ("extra_css", "extra_javascript"):
        for item in config.get(key) or []:
            path = item.get("path") if isinstance(item, dict) else item
            if not (
                isinstance(path, str) and path.startswith("assets/") and ".." not in path and ":" not in path
            ):
                refuse(
                    f'{key} entry "{excerpt(path)}" is not a file in docs/assets/',
                    "serve styles and scripts from docs/assets/: the site loads nothing from another host",
                    str(path),
                )
    theme = config.get("theme") if isinstance(config.get("theme"), dict) else {}
    custom_dir = theme.get("custom_dir")
    if custom_dir is not None and custom_dir != "docs/overrides":
        refuse(
            f'theme custom_dir "{excerpt(custom_dir)}" is not docs/overrides',
            "keep theme overrides in docs/overrides/",
            "custom_dir",
        )
    return problems


def parse_bibliography(sources: Sources) -> tuple[Bibliography, list[Problem]]:
    """Parse the BibTeX file, turning its diagnostics into problems."""
    bib, issues = Bibliography.parse(sources.bib_text)
    problems = [
        Problem(path=sources.bib_path, line=i.line, code=i.code, message=i.message, hint=i.hint)
        for i in issues
    ]
    return bib, problems


@dataclass(kw_only=True)
class ValidationCache:
    """What validation keeps between runs of a generator, so that an edit re-validates only what it touched.

    Attributes:
        tables: Frictionless's problems per table, with the digest they belong to (see `validate_frictionless`).
        bib_text: The BibTeX text `bibliography` was parsed from.
        bibliography: The parsed bibliography and its problems.
        references: The house rules' warnings about the works of `bibliography` (they read nothing else).
        markup: What the markup check found in each text (see `check_markup`).
        citations: Each text's parsed citations (see `collect_citation_uses`).
    """

    tables: dict[str, tuple[str, list[Problem], set[int]]] = dataclasses.field(default_factory=dict)
    bib_text: str | None = None
    bibliography: tuple[Bibliography, list[Problem]] | None = None
    references: list[Problem] | None = None
    markup: MarkupMemo = dataclasses.field(default_factory=dict)
    citations: dict[str, tuple[Citation, ...]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _TableReport:
    """What Frictionless found, sent back by a helper: the problems, and the per-table cache it updated."""

    problems: list[Problem]
    tables: dict[str, tuple[str, list[Problem], set[int]]] | None


@dataclass(frozen=True, kw_only=True)
class Validation:
    """What validation found, and the bibliography it parsed (the model reuses it: the file is parsed once).

    Attributes:
        problems: Every problem found, sorted by file and line; warnings included.
        bibliography: The parsed ``references.bib``.
        citations: Each Markdown text validation read (cells and pages), with its parsed citations.
    """

    problems: list[Problem]
    bibliography: Bibliography
    citations: dict[str, tuple[Citation, ...]]


def validate_project(
    sources: Sources, *, frictionless: bool = True, cache: ValidationCache | None = None
) -> list[Problem]:
    """Run every check over the loaded sources.

    Args:
        sources: What the load stage read.
        frictionless: Run the Frictionless validation (tests of our own rules may skip it for speed).
        cache: What an earlier run kept (`ValidationCache`): Frictionless re-validates only the tables whose
            file changed, the bibliography is parsed (and its works checked) again only when its text changed,
            and the markup check parses only texts it has not seen. Updated.

    Returns:
        Every problem found, sorted by file and line; warnings included.
    """
    return validate_sources(sources, frictionless=frictionless, cache=cache).problems


def validate_sources(
    sources: Sources,
    *,
    frictionless: bool = True,
    cache: ValidationCache | None = None,
    helper: bool = False,
) -> Validation:
    """Run every check over the loaded sources, and keep the bibliography they parsed for the model.

    Args:
        sources: What the load stage read.
        frictionless: Run the Frictionless validation (tests of our own rules may skip it for speed).
        cache: What an earlier run kept (`ValidationCache`), as for `validate_project`. Updated.
        helper: Run the Frictionless validation in a forked helper process while the other checks run here
            (`coguide.forked`), where the system can; the result is the same.
    """
    problems = list(sources.problems)
    tables = None if cache is None else cache.tables
    beside: Helper[_TableReport] | None = None
    if frictionless and helper and can_fork():
        beside = Helper.start(
            lambda _note: _TableReport(validate_frictionless(sources, tables), tables), journal=False
        )
    if frictionless and beside is None:  # no helper asked for, or the system refused the fork
        problems.extend(validate_frictionless(sources, tables))
    elif not frictionless:
        for table in sources.tables.values():
            fks = next(
                (
                    r.get("schema", {}).get("foreignKeys", [])
                    for r in sources.descriptor.get("resources", [])
                    if r.get("name") == table.name
                ),
                [],
            )
            if table.readable:
                problems.extend(_foreign_key_problems(table, sources.tables, fks))
    try:
        if cache is not None and cache.bibliography is not None and cache.bib_text == sources.bib_text:
            bib, bib_problems = cache.bibliography
        else:
            bib, bib_problems = parse_bibliography(sources)
            if cache is not None:
                cache.bib_text, cache.bibliography = sources.bib_text, (bib, bib_problems)
                cache.references = None
        problems.extend(bib_problems)
        parsed: dict[str, tuple[Citation, ...]] = {}
        uses = collect_citation_uses(sources, parsed, None if cache is None else cache.citations)
        if cache is not None:
            cache.citations = parsed
        problems.extend(check_citations(uses, bib))
        problems.extend(check_citation_records(sources))
        problems.extend(check_self_links(sources))
        problems.extend(check_aliases(sources))
        problems.extend(check_markup(sources, None if cache is None else cache.markup))
        problems.extend(check_posts(sources))
        problems.extend(check_ids(sources))
        problems.extend(check_docs_files(sources))
        problems.extend(check_config(sources))

        references = None if cache is None else cache.references
        if references is None:
            references = check_references(bib, sources.bib_path)
            if cache is not None:
                cache.references = references
        problems.extend(check_house_rules(sources, bib, references=references))
        if beside is not None:
            # Frictionless's problems go where a run without the helper puts them: after the loader's.
            first = len(sources.problems)
            report = beside.collect(_TableReport)
            if report is None:  # the helper failed: validate here (an exception is then raised here)
                problems[first:first] = validate_frictionless(sources, tables)
            else:
                problems[first:first] = report.problems
                if tables is not None and report.tables is not None:
                    tables.update(report.tables)
    finally:
        if beside is not None:
            beside.stop()  # a check raised before the helper was collected
    if bib_problems == [] or all(p.code != "bibtex-syntax" for p in bib_problems):
        problems.extend(check_unused(uses, bib, sources.bib_path))
    # The generator's own id rule repeats the descriptor's pattern while the descriptor still has it: one
    # problem per cell is enough, and the descriptor's names the rule the contributor can read.
    pattern_cells = {(p.path, p.line, p.field) for p in problems if p.code == "constraint-error"}
    problems = [
        p for p in problems if not (p.code == "invalid-id" and (p.path, p.line, p.field) in pattern_cells)
    ]
    unique = {(p.path, p.line, p.code, p.message): p for p in problems}
    return Validation(problems=sorted(unique.values(), key=_cause_first), bibliography=bib, citations=parsed)


_CAUSE = re.compile(r'fix the malformed id ".*" at (\S+):(\d+)$')


def _cause_first(problem: Problem) -> tuple[str, int, int, tuple[str, int, str, str]]:
    """Sort by file and line, putting each link broken only by a malformed id right after that id.

    The cause (the malformed id) is then read before its consequences (the links to it).
    """
    cause = _CAUSE.search(problem.hint)
    if cause is not None:
        return (cause.group(1), int(cause.group(2)), 1, problem.sort_key)
    return (problem.path, problem.line or 0, 0, problem.sort_key)


def check_project(root: Path | str) -> list[Problem]:
    """Load and validate the project in `root`; a convenience for the CLI and tests."""
    from coguide.source.load import load_project

    return validate_project(load_project(root))
