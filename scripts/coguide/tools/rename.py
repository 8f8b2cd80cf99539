"""Rename: ``coguide rename KIND OLD NEW`` changes a record's id everywhere and keeps its old address working.

An id is a page address that others link to, so a rename must leave nothing pointing at the old id:
the record's own row, every link-table cell that names it (found from the descriptor's foreign keys),
its rows in ``citations.csv``, and Markdown links to its page in essays, hand-written pages and text
cells. The old id goes into the record's ``aliases``, from which the build makes a redirect.

Only the rows that change are rewritten; every other byte of each file (quoting, line endings, a BOM)
stays as it was. Nothing is written unless every check passes first.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coguide.source.load import DATA_DIR, DESCRIPTOR, Table, load_project
from coguide.source.validate import SLUG, did_you_mean

#: The record kinds that can be renamed, and their resources; each has an ``aliases`` column.
KINDS: dict[str, str] = {"term": "terms", "concept": "concepts", "case": "cases"}


class RenameError(Exception):
    """A reason the rename cannot be made; the message says what to do."""


@dataclass(frozen=True, kw_only=True)
class Change:
    """One change the rename makes, as reported to the contributor."""

    path: str
    line: int
    what: str

    def format(self) -> str:
        """Format as ``path:line: what``."""
        return f"{self.path}:{self.line}: {self.what}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("kind", choices=tuple(KINDS))
    parser.add_argument("old", help="the record's current id")
    parser.add_argument("new", help="the new id (lower-case letters and digits joined by single hyphens)")


def run(args: argparse.Namespace) -> int:
    """Rename the record and print each change; exit 2, changing nothing, if the rename is refused."""
    root = Path(args.project).resolve()
    try:
        changes = rename(root, args.kind, args.old, args.new)
    except RenameError as exc:
        print(f"coguide rename: {exc}", file=sys.stderr)
        return 2
    for change in changes:
        print(change.format())
    resource = KINDS[args.kind]
    files = len({c.path for c in changes})
    print(
        f'Renamed the {args.kind} "{args.old}" to "{args.new}": {len(changes)} change(s) in {files} file(s). '
        f"/{resource}/{args.old}/ now redirects to /{resource}/{args.new}/; run `coguide check`."
    )
    return 0


# --------------------------------------------------------------------------------------------- CSV


def _rows_with_spans(text: str) -> list[tuple[int, int, list[str]]]:
    """Return each CSV record with its first and last line index (0-based) in `text`."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    spans = []
    last = 0
    for record in reader:
        start, last = last, reader.line_num
        spans.append((start, last - 1, record))
    return spans


def _serialise(record: list[str], newline: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerow(record)
    return buffer.getvalue()


class _CsvEdit:
    """Edits to one CSV file, applied to the rows that change only."""

    def __init__(self, root: Path, table: Table) -> None:
        self.table = table
        self.path = root / table.path
        raw = self.path.read_bytes()
        self.bom = raw.startswith(b"\xef\xbb\xbf")
        self.text = raw.decode("utf-8-sig")
        self.newline = "\r\n" if "\r\n" in self.text else "\n"
        self.lines = self.text.splitlines(keepends=True)
        self.spans = _rows_with_spans(self.text)
        self.header = self.spans[0][2] if self.spans else []
        self.changed: dict[int, list[str]] = {}

    def rows(self) -> list[tuple[int, dict[str, str]]]:
        """Return (record index, values by field) for every data row."""
        return [
            (i, dict(zip(self.header, record, strict=False)))
            for i, (_start, _end, record) in enumerate(self.spans)
            if i > 0 and record
        ]

    def line_of(self, index: int) -> int:
        """Return the editor line on which record `index` starts."""
        return self.spans[index][0] + 1

    def set(self, index: int, field: str, value: str) -> None:
        """Set one cell of record `index`."""
        record = self.changed.setdefault(index, list(self.spans[index][2]))
        record[self.header.index(field)] = value

    def get(self, index: int, field: str) -> str:
        """Return a cell's current value, edits included."""
        record = self.changed.get(index, self.spans[index][2])
        position = self.header.index(field)
        return record[position] if position < len(record) else ""

    def result(self) -> bytes:
        """Return the file's new bytes."""
        out: list[str] = []
        edits = {self.spans[i][0]: i for i in self.changed}
        skip_to = -1
        for number, line in enumerate(self.lines):
            if number <= skip_to:
                continue
            if number in edits:
                index = edits[number]
                end = self.spans[index][1]
                ending = self.newline if self.lines[end].endswith(("\n", "\r")) else ""
                out.append(_serialise(self.changed[index], self.newline).removesuffix(self.newline) + ending)
                skip_to = end
                continue
            out.append(line)
        data = "".join(out).encode("utf-8")
        return (b"\xef\xbb\xbf" if self.bom else b"") + data


# --------------------------------------------------------------------------------------------- links


def _link_pattern(resource: str, old: str) -> re.Pattern[str]:
    """Match a Markdown link target (inline or a reference definition) to the record's page."""
    target = rf"(?P<prefix>(?:\]\(|^\[[^\]\n]+\]:[ \t]*)<?[^)\s>]*?(?<![\w-]){re.escape(resource)}/){re.escape(old)}"
    return re.compile(target + r"(?=(?:\.md|/)?(?:#[^)\s>]*)?>?(?:\)|[ \t]|$))", re.MULTILINE)


def _relink(text: str, pattern: re.Pattern[str], new: str) -> tuple[str, list[int]]:
    """Point every link to the old page at the new one; return the text and the (0-based) lines changed."""
    lines = sorted({text.count("\n", 0, m.start()) for m in pattern.finditer(text)})
    return pattern.sub(lambda m: m.group("prefix") + new, text), lines


# --------------------------------------------------------------------------------------------- rename


def _id_constraints(descriptor: dict[str, Any], resource: str) -> dict[str, Any]:
    for res in descriptor.get("resources", []):
        if isinstance(res, dict) and res.get("name") == resource:
            for field in res.get("schema", {}).get("fields", []):
                if field.get("name") == "id":
                    return field.get("constraints") or {}
    return {}


def _aliases(value: str) -> list[str]:
    return [a.strip() for a in value.split(";") if a.strip()]


def rename(root: Path, kind: str, old: str, new: str) -> list[Change]:
    """Rename a record's id everywhere, keeping the old id as an alias.

    Args:
        root: The project folder.
        kind: ``term``, ``concept`` or ``case``.
        old: The record's current id.
        new: Its new id.

    Returns:
        Every change made, in file order.

    Raises:
        RenameError: OLD is unknown, NEW is invalid or taken, or a file involved cannot be read;
            nothing was written.
    """
    if not (root / DESCRIPTOR).is_file():
        raise RenameError(f"{root} is not a coguide project (no {DESCRIPTOR})")
    resource = KINDS[kind]
    sources = load_project(root)
    table = sources.tables.get(resource)
    if table is None or not table.readable or "aliases" not in table.header:
        raise RenameError(f"{DATA_DIR}/{resource}.csv cannot be read; run `coguide check` and fix it first")
    ids = {row.values.get("id", "") for row in table.rows}
    if old not in ids:
        hint = did_you_mean(old, ids)
        raise RenameError(f'there is no {kind} "{old}" in {table.path}' + (f" ({hint})" if hint else ""))
    constraints = _id_constraints(sources.descriptor, resource)
    pattern = constraints.get("pattern", r"^[a-z0-9]+(-[a-z0-9]+)*$")
    limit = constraints.get("maxLength")
    if not re.fullmatch(pattern, new) or not SLUG.fullmatch(new) or (limit and len(new) > limit):
        raise RenameError(
            f'"{new}" is not a valid id: use lower-case letters and digits joined by single hyphens'
            + (f", at most {limit} characters" if limit else "")
        )
    if new == old:
        raise RenameError(f'the {kind} is already called "{old}"')
    for row in table.rows:
        if row.values.get("id") == new:
            raise RenameError(f'{table.path}:{row.line}: the id "{new}" is already used; choose another id')
        if new in _aliases(row.values.get("aliases", "")) and row.values.get("id") != old:
            raise RenameError(
                f'{table.path}:{row.line}: "{new}" is a former id of "{row.values.get("id")}", '
                "whose old address redirects there; choose another id"
            )

    changes: list[Change] = []
    edits: dict[str, _CsvEdit] = {}

    def edit(t: Table) -> _CsvEdit:
        if not t.readable:
            raise RenameError(f"{t.path} cannot be read; run `coguide check` and fix it first")
        if t.path not in edits:
            edits[t.path] = _CsvEdit(root, t)
        return edits[t.path]

    # The record itself: its id, and the old id kept as an alias.
    own = edit(table)
    for index, values in own.rows():
        if values.get("id") != old:
            continue
        aliases = [a for a in _aliases(own.get(index, "aliases")) if a != new]
        own.set(index, "id", new)
        own.set(index, "aliases", "; ".join([*aliases, old]))
        changes.append(Change(path=table.path, line=own.line_of(index), what=f'id "{old}" -> "{new}"'))
        changes.append(
            Change(
                path=table.path, line=own.line_of(index), what=f'aliases now "{"; ".join([*aliases, old])}"'
            )
        )

    # Every cell that links to it: the foreign keys the descriptor declares, and citations.csv.
    for res in sources.descriptor.get("resources", []):
        if not isinstance(res, dict):
            continue
        for fk in res.get("schema", {}).get("foreignKeys", []):
            target = fk.get("reference", {}).get("resource") or res.get("name")
            field = fk.get("fields")
            linked = sources.tables.get(str(res.get("name")))
            if target != resource or not isinstance(field, str) or linked is None:
                continue
            if not any(row.values.get(field) == old for row in linked.rows):
                continue
            links = edit(linked)
            for index, values in links.rows():
                if values.get(field) == old:
                    links.set(index, field, new)
                    changes.append(
                        Change(
                            path=linked.path, line=links.line_of(index), what=f'{field} "{old}" -> "{new}"'
                        )
                    )
    citations = sources.tables.get("citations")
    if citations is not None and any(
        r.values.get("resource") == resource and r.values.get("record") == old for r in citations.rows
    ):
        cited = edit(citations)
        for index, values in cited.rows():
            if values.get("resource") == resource and values.get("record") == old:
                cited.set(index, "record", new)
                changes.append(
                    Change(path=citations.path, line=cited.line_of(index), what=f'record "{old}" -> "{new}"')
                )

    # Links to its page: in the text cells of every record, and in every hand-written page.
    link = _link_pattern(resource, old)
    for name, fields in sources.registry.text_fields.items():
        t = sources.tables.get(name)
        if t is None or not any(link.search(row.values.get(f, "")) for row in t.rows for f in fields):
            continue
        cells = edit(t)
        for index, _values in cells.rows():
            for field in fields:
                text, lines = _relink(cells.get(index, field), link, new)
                if lines:
                    cells.set(index, field, text)
                    changes.append(
                        Change(
                            path=t.path, line=cells.line_of(index), what=f"{field}: link to {resource}/{new}"
                        )
                    )
    pages: dict[Path, bytes] = {}
    for doc in sources.documents:
        path = root / doc.path
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        updated, lines = _relink(text, link, new)
        if lines:
            pages[path] = (b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b"") + updated.encode(
                "utf-8"
            )
            changes.extend(
                Change(path=doc.path, line=n + 1, what=f"link to {resource}/{old} -> {resource}/{new}")
                for n in lines
            )

    # Everything is computed; only now is anything written.
    for edited in edits.values():
        edited.path.write_bytes(edited.result())
    for path, data in pages.items():
        path.write_bytes(data)
    return sorted(changes, key=lambda c: (c.path, c.line))
