"""Load: read the data package, its CSV tables, the BibTeX file and the hand-written pages; nothing else.

Loading never raises on bad input. Every file-level problem (missing, not UTF-8, broken quoting, broken
front matter) is recorded as a `Problem` so that the check can report all of them at once.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from coguide.errors import Problem
from coguide.source.guard import check_descriptor, check_input_file, excerpt, walk_files
from coguide.source.schema import Registry, read_registry

DATA_DIR = "datapackage"
DOCS_DIR = "docs"
POSTS_DIR = "docs/blog/posts"
DESCRIPTOR = "datapackage/datapackage.json"
AUTHORS = "docs/blog/.authors.yml"
CONFIG = "mkdocs.yml"
#: Pages kept outside ``docs/`` that the generator publishes, by their place in the site.
INCLUDED_PAGES = {"CONTRIBUTING.md": "contributing/index.md"}


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


def cell_line(table: Table, row_values: dict[str, str], row_line: int, field: str) -> int:
    """Return the editor line where a cell starts, counting line breaks in the quoted cells before it."""
    line = row_line
    for name in table.header:
        if name == field:
            break
        line += row_values.get(name, "").count("\n")
    return line


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
        meta_lines: The file line of each top-level front-matter key.
    """

    path: str
    src_uri: str
    meta: dict[str, Any]
    body: str
    body_line: int
    is_post: bool
    meta_lines: dict[str, int] = field(default_factory=dict)


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
    #: Every regular file under ``docs/`` (relative to the root): what the engine would publish.
    doc_files: tuple[str, ...] = ()
    #: Essay author names by id, from ``docs/blog/.authors.yml``.
    authors: dict[str, str] = field(default_factory=dict)
    #: The engine configuration (``mkdocs.yml``) as YAML, its tags (``!ENV``) read as plain values.
    config: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def registry(self) -> Registry:
        """Return the record types the descriptor declares (see `coguide.source.schema`), read once."""
        return read_registry(self.descriptor)


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
    refused = check_input_file(root, rel)
    if refused is not None:
        problems.append(refused)
        return None
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


def read_document(
    root: Path, path: Path, problems: list[Problem], *, src_uri: str | None = None
) -> Document | None:
    """Read one hand-written Markdown page and its front matter.

    Args:
        root: The project folder.
        path: The page's file.
        problems: Where to record what cannot be read.
        src_uri: The page's place in the site, for a page kept outside ``docs/`` (default: its path there).
    """
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
                    message=f"front matter is not valid YAML: {excerpt(getattr(exc, 'problem', exc), 120)}",
                    hint="check the indentation and quote values that contain a colon",
                )
            )
            loaded = {}
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            # PyYAML builds dates itself and raises ValueError for one that does not exist (2026-02-30).
            key, line = _failing_key(yaml_src)
            problems.append(
                Problem(
                    path=rel,
                    line=line,
                    code="front-matter",
                    field=key,
                    message=f'front matter "{key}" cannot be read: {excerpt(exc, 120)}',
                    hint="write a real date as YYYY-MM-DD" if key == "date" else "check the value's format",
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
        src_uri=src_uri or path.relative_to(docs).as_posix(),
        meta=meta,
        body=body,
        body_line=body_line,
        is_post=rel.startswith(POSTS_DIR + "/"),
        meta_lines=_key_lines(yaml_src or ""),
    )


_KEY = re.compile(r"^([A-Za-z_$][\w$-]*)\s*:")


def _key_lines(yaml_src: str) -> dict[str, int]:
    """Return the file line of each top-level key (the front matter starts on line 2)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(yaml_src.splitlines(), start=2):
        match = _KEY.match(line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines


def _failing_key(yaml_src: str) -> tuple[str, int]:
    """Find the top-level key whose value PyYAML cannot construct, by loading one key at a time."""
    for key, line in _key_lines(yaml_src).items():
        block = [src for src in yaml_src.splitlines()[line - 2 :]]
        end = next((i for i, src in enumerate(block[1:], 1) if _KEY.match(src)), len(block))
        try:
            yaml.safe_load("\n".join(block[:end]))
        except Exception:  # any failure names the key
            return key, line
    return "", 2


def read_documents(root: Path, files: list[str], problems: list[Problem]) -> tuple[Document, ...]:
    """Read every hand-written Markdown page among `files` (paths under ``docs/``) in a stable order."""
    docs = root / DOCS_DIR
    found = []
    for rel in files:
        path = root / rel
        if path.suffix != ".md" or any(part.startswith(".") for part in path.relative_to(docs).parts):
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
            descriptor, unsafe = check_descriptor(loaded, text, DESCRIPTOR)
            problems.extend(unsafe)
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
    doc_files, doc_problems = walk_files(root, DOCS_DIR)
    authors = read_authors(root, problems) if AUTHORS in doc_files else {}
    config = read_config(root, problems)
    documents = read_documents(root, doc_files, problems)
    # CONTRIBUTING.md is the repository's page for contributors and the site's Contributing page at once.
    for rel, src_uri in INCLUDED_PAGES.items():
        if ((root / rel).exists() or (root / rel).is_symlink()) and read_text(
            root, rel, problems
        ) is not None:
            doc = read_document(root, root / rel, problems, src_uri=src_uri)
            documents += (doc,) if doc is not None else ()
    problems.extend(doc_problems)
    return Sources(
        root=root,
        descriptor=descriptor,
        tables=tables,
        bib_path=bib_path,
        bib_text=bib_text.replace("\r\n", "\n"),
        documents=documents,
        problems=tuple(problems),
        doc_files=tuple(doc_files),
        authors=authors,
        config=config,
    )


class _TaggedLoader(yaml.SafeLoader):
    """A safe loader that reads any tag (``!ENV [NAME, default]``) as the plain value it carries."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_TaggedLoader.add_multi_constructor("!", _untagged)
_TaggedLoader.add_multi_constructor("tag:yaml.org,2002:python/", _untagged)


def _read_yaml(root: Path, rel: str, problems: list[Problem], loader: type = yaml.SafeLoader) -> Any:
    text = read_text(root, rel, problems)
    if text is None:
        return None
    try:
        return yaml.load(text, Loader=loader)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(
            Problem(
                path=rel,
                line=mark.line + 1 if mark is not None else None,
                code="invalid-config",
                message=f"not valid YAML: {excerpt(getattr(exc, 'problem', exc), 120)}",
                hint="check the indentation near this line",
            )
        )
        return None


def read_authors(root: Path, problems: list[Problem]) -> dict[str, str]:
    """Read the essay authors (id -> name) from the blog's authors file."""
    data = _read_yaml(root, AUTHORS, problems)
    entries = data.get("authors") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        if data is not None:
            problems.append(
                Problem(
                    path=AUTHORS,
                    line=1,
                    code="invalid-config",
                    message="the file must hold `authors:` with one entry per author id",
                    hint="see the entry for `editors`",
                )
            )
        return {}
    return {
        str(key): str(value.get("name", key)) for key, value in entries.items() if isinstance(value, dict)
    }


def read_config(root: Path, problems: list[Problem]) -> dict[str, Any]:
    """Read ``mkdocs.yml`` (if the project has one) so that the check can see what it turns on."""
    if not (root / CONFIG).exists() and not (root / CONFIG).is_symlink():
        return {}
    data = _read_yaml(root, CONFIG, problems, _TaggedLoader)
    return data if isinstance(data, dict) else {}


def package_files(sources: Sources) -> list[tuple[str, bytes]]:
    """Return the data package's files (descriptor, tables, bibliography) as (name, bytes), sorted by name.

    Raises:
        ValueError: A resource path in the descriptor points outside the package folder.
    """
    names = {"datapackage.json"}
    for resource in sources.descriptor.get("resources", []):
        paths = resource.get("path") if isinstance(resource, dict) else None
        for path in [paths] if isinstance(paths, str) else (paths or []):
            pure = PurePosixPath(str(path))
            if pure.is_absolute() or ".." in pure.parts or "://" in str(path):
                raise ValueError(f"datapackage.json: resource path {path!r} is not a file in datapackage/")
            names.add(pure.as_posix())
    folder = sources.root / DATA_DIR
    return [(name, (folder / name).read_bytes()) for name in sorted(names)]
