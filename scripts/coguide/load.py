"""Load: read the data package, its CSV tables, the BibTeX file and the hand-written pages; nothing else.

Loading never raises on bad input. Every file-level problem (missing, not UTF-8, broken quoting, broken
front matter) is recorded as a `Problem` so that the check can report all of them at once.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coguide.errors import Problem

DATA_DIR = "datapackage"
DOCS_DIR = "docs"
POSTS_DIR = "docs/blog/posts"
DESCRIPTOR = "datapackage/datapackage.json"


@dataclass(frozen=True, kw_only=True)
class Row:
    """One record of a CSV table.

    Attributes:
        number: The row's position as Frictionless counts it (the header is row 1).
        line: The line in the file where the record starts (quoted cells may span lines).
        values: Cell values by field name (missing cells are empty strings).
    """

    number: int
    line: int
    values: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Table:
    """One tabular resource as read from disk."""

    name: str
    path: str
    fields: tuple[str, ...]
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    readable: bool


@dataclass(frozen=True, kw_only=True)
class Document:
    """A hand-written Markdown page under ``docs/``.

    Attributes:
        path: Path relative to the project root.
        src_uri: Path relative to ``docs/`` (what MkDocs calls the page's source URI).
        meta: Front matter (empty when there is none).
        body: The Markdown after the front matter.
        body_line: The file line on which `body` starts.
        is_post: True for essays under ``docs/blog/posts/``.
    """

    path: str
    src_uri: str
    meta: dict[str, Any]
    body: str
    body_line: int
    is_post: bool


@dataclass(frozen=True, kw_only=True)
class Sources:
    """Everything the generator reads, as read, with the problems met while reading."""

    root: Path
    descriptor: dict[str, Any]
    tables: dict[str, Table]
    bib_path: str
    bib_text: str
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...] = field(default=())


def _decode(raw: bytes, rel: str, problems: list[Problem]) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                path=rel,
                line=line,
                code="encoding-error",
                message=f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                hint="re-save the file as UTF-8",
            )
        )
        return None


def read_text(root: Path, rel: str, problems: list[Problem]) -> str | None:
    """Read a UTF-8 text file (a BOM is accepted), recording a problem if it is missing or not UTF-8."""
    path = root / rel
    if not path.is_file():
        problems.append(
            Problem(path=rel, line=None, code="missing-file", message="file not found", hint=f"create {rel}")
        )
        return None
    return _decode(path.read_bytes(), rel, problems)


def _schema_fields(resource: dict[str, Any]) -> tuple[str, ...]:
    return tuple(f.get("name", "") for f in resource.get("schema", {}).get("fields", []))


def read_table(root: Path, resource: dict[str, Any], problems: list[Problem]) -> Table:
    """Read one CSV resource, tracking the editor line on which each record starts."""
    rel = f"{DATA_DIR}/{resource.get('path', '')}"
    name = str(resource.get("name", ""))
    fields = _schema_fields(resource)
    text = read_text(root, rel, problems)
    if text is None:
        return Table(name=name, path=rel, fields=fields, header=(), rows=(), readable=False)
    if not text.strip():
        problems.append(
            Problem(
                path=rel,
                line=1,
                code="empty-file",
                message="the file is empty",
                hint="start it with the header row: " + ",".join(fields),
            )
        )
        return Table(name=name, path=rel, fields=fields, header=(), rows=(), readable=False)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    header: tuple[str, ...] = ()
    rows: list[Row] = []
    number = 0
    last = 0
    try:
        for record in reader:
            start = last + 1
            last = reader.line_num
            number += 1
            if number == 1:
                header = tuple(record)
                continue
            if not record:
                continue
            values = {name_: (record[i] if i < len(record) else "") for i, name_ in enumerate(header)}
            rows.append(Row(number=number, line=start, values=values))
    except csv.Error as exc:
        problems.append(
            Problem(
                path=rel,
                line=last + 1,
                code="csv-syntax",
                message=f"the CSV cannot be read from here: {exc}",
                hint='close the quoted cell; a quote inside a cell is written twice ("")',
            )
        )
        return Table(name=name, path=rel, fields=fields, header=header, rows=tuple(rows), readable=False)
    return Table(name=name, path=rel, fields=fields, header=header, rows=tuple(rows), readable=True)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Split ``---`` fenced YAML front matter from a Markdown text.

    Returns:
        The YAML source (or None), the body, and the 1-based line on which the body starts.
    """
    if not text.startswith("---"):
        return None, text, 1
    lines = text.splitlines(keepends=True)
    if lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return "".join(lines[1:]), "", len(lines) + 1


def read_document(root: Path, path: Path, problems: list[Problem]) -> Document | None:
    """Read one hand-written Markdown page and its front matter."""
    rel = path.relative_to(root).as_posix()
    text = _decode(path.read_bytes(), rel, problems)
    if text is None:
        return None
    text = text.replace("\r\n", "\n")
    yaml_src, body, body_line = split_front_matter(text)
    meta: dict[str, Any] = {}
    if yaml_src is not None:
        try:
            loaded = yaml.safe_load(yaml_src) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark is not None else 1
            problems.append(
                Problem(
                    path=rel,
                    line=line,
                    code="front-matter",
                    message=f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}",
                    hint="check the indentation and quote values that contain a colon",
                )
            )
            loaded = {}
        if not isinstance(loaded, dict):
            problems.append(
                Problem(
                    path=rel,
                    line=2,
                    code="front-matter",
                    message="front matter must be a set of `key: value` lines",
                    hint="see an existing essay for the expected keys",
                )
            )
            loaded = {}
        meta = loaded
    docs = root / DOCS_DIR
    return Document(
        path=rel,
        src_uri=path.relative_to(docs).as_posix(),
        meta=meta,
        body=body,
        body_line=body_line,
        is_post=rel.startswith(POSTS_DIR + "/"),
    )


def read_documents(root: Path, problems: list[Problem]) -> tuple[Document, ...]:
    """Read every hand-written Markdown page under ``docs/`` in a stable order."""
    docs = root / DOCS_DIR
    if not docs.is_dir():
        return ()
    found = []
    for path in sorted(docs.rglob("*.md")):
        if any(part.startswith(".") for part in path.relative_to(docs).parts):
            continue
        doc = read_document(root, path, problems)
        if doc is not None:
            found.append(doc)
    return tuple(found)


def load_project(root: Path | str) -> Sources:
    """Read the whole project: descriptor, tables, bibliography and hand-written pages.

    Args:
        root: The project folder (the one holding ``datapackage/`` and ``docs/``).

    Returns:
        The sources as read, with every file-level problem met on the way.
    """
    root = Path(root).resolve()
    problems: list[Problem] = []
    descriptor: dict[str, Any] = {}
    text = read_text(root, DESCRIPTOR, problems)
    if text is not None:
        try:
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise ValueError("the top level must be an object")
            descriptor = loaded
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            problems.append(
                Problem(
                    path=DESCRIPTOR,
                    line=line,
                    code="invalid-descriptor",
                    message=f"not valid JSON: {exc}",
                    hint="check commas and brackets near this line",
                )
            )
    tables: dict[str, Table] = {}
    bib_path = f"{DATA_DIR}/references.bib"
    bib_text = ""
    for resource in descriptor.get("resources", []):
        if not isinstance(resource, dict):
            continue
        if "schema" in resource:
            table = read_table(root, resource, problems)
            tables[table.name] = table
        elif str(resource.get("path", "")).endswith(".bib"):
            bib_path = f"{DATA_DIR}/{resource['path']}"
            bib_text = read_text(root, bib_path, problems) or ""
    return Sources(
        root=root,
        descriptor=descriptor,
        tables=tables,
        bib_path=bib_path,
        bib_text=bib_text.replace("\r\n", "\n"),
        documents=read_documents(root, problems),
        problems=tuple(problems),
    )
