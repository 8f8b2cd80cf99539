"""Load: the entrance guard, which decides whether a file named by a pull request may be read at all.

Every path the generator reads comes from something a contributor can edit: a resource path in
``datapackage.json``, a file under ``docs/``, a symlink committed in place of a table. Before any byte is
read, the path must be relative, free of ``..`` and of URL schemes, inside the project, not a symlink, and a
regular file (a FIFO would hang the check forever; a device would never end). Nothing here opens a file.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

from coguide.errors import Problem
from coguide.source.schema import contract_problems, unmarked_markdown

#: A scheme such as ``https:`` or ``file:`` at the start of a path; Frictionless would fetch it.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: Characters that never belong in a path a contributor writes (control characters, backslashes).
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def excerpt(value: object, limit: int = 60) -> str:
    """Return a short, escaped excerpt of untrusted text, safe to print in a message or a public annotation.

    Control characters are shown as escapes and the text is cut at `limit` characters, so that a message
    never echoes a whole file (a symlinked secret, say) and never breaks the line it is printed on.
    """
    text = str(value)
    shown = text[:limit].encode("unicode_escape").decode("ascii", "backslashreplace")
    return shown + ("…" if len(text) > limit else "")


def check_relative_path(
    value: object, *, where: str, line: int | None = None, field: str = ""
) -> Problem | None:
    """Refuse a path written in a descriptor unless it is a plain relative path inside its folder.

    Args:
        value: The path as written (a list, a URL or a number are refused too).
        where: The file the path was written in, for the problem.
        line: The line it was written on, when known.
        field: The key that held it, for the problem.

    Returns:
        A problem, or None when the path is acceptable.
    """
    hint = "write a file name inside datapackage/, such as terms.csv"
    if not isinstance(value, str) or not value.strip():
        return Problem(
            path=where,
            line=line,
            code="unsafe-path",
            field=field,
            message=f"{field or 'path'} must be one file name, not {excerpt(value)}",
            hint=hint,
        )
    pure = PurePosixPath(value)
    reason = ""
    if _SCHEME.match(value) or "://" in value:
        reason = "is a URL: the guide never fetches anything over the network"
    elif _BAD_CHARS.search(value):
        reason = "contains a backslash or a control character"
    elif pure.is_absolute() or value.startswith("~"):
        reason = "is an absolute path"
    elif ".." in pure.parts:
        reason = "climbs out of its folder with .."
    if not reason:
        return None
    return Problem(
        path=where,
        line=line,
        code="unsafe-path",
        field=field,
        message=f'{field or "path"} "{excerpt(value)}" {reason}',
        hint=hint,
    )


def check_input_file(root: Path, rel: str) -> Problem | None:
    """Refuse to read `rel` (relative to the project `root`) unless it is a regular file inside the project.

    Every component of the path is inspected without following links, so a symlinked folder is caught as
    surely as a symlinked file.

    Returns:
        A problem (``unsafe-path`` or ``not-a-file``), or None when the file may be read.
        A file that does not exist is not a problem here: the caller reports it as missing.
    """
    root = root.resolve()
    current = root
    for part in PurePosixPath(rel).parts:
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return Problem(
                path=rel,
                line=None,
                code="not-a-file",
                message=f"cannot be inspected ({exc.strerror})",
                hint="make it an ordinary file that you can read",
            )
        if stat.S_ISLNK(info.st_mode):
            inside = _is_inside(root, current)
            return Problem(
                path=rel,
                line=None,
                code="unsafe-path",
                message=(
                    f"{current.relative_to(root).as_posix()} is a symbolic link"
                    + ("" if inside else " to a file outside the project")
                ),
                hint="replace the link with the file itself: the guide reads only ordinary files in the project",
            )
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not an ordinary file (a pipe, socket or device)"
        return Problem(
            path=rel,
            line=None,
            code="not-a-file",
            message=f"is {kind}",
            hint="replace it with an ordinary text file",
        )
    return None


def _is_inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def walk_files(root: Path, folder: str) -> tuple[list[str], list[Problem]]:
    """List every file below `folder` (relative to `root`), without following symbolic links.

    Returns:
        The relative paths of the regular files, sorted, and a problem for every symlink and every entry
        that is neither a folder nor a regular file. Hidden entries (names starting with ".") are listed too:
        the engine publishes some of them.
    """
    base = root / folder
    files: list[str] = []
    problems: list[Problem] = []
    if not base.is_dir() or base.is_symlink():
        if base.is_symlink():
            problems.append(check_input_file(root, folder) or _link_problem(folder))
        return files, problems
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        here = Path(dirpath)
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                rel = (here / name).relative_to(root).as_posix()
                problems.append(check_input_file(root, rel) or _link_problem(rel))
        dirnames[:] = sorted(d for d in dirnames if not (here / d).is_symlink())
        for name in sorted(filenames):
            rel = (here / name).relative_to(root).as_posix()
            problem = check_input_file(root, rel)
            if problem is None:
                files.append(rel)
            else:
                problems.append(problem)
    return sorted(files), problems


def _link_problem(rel: str) -> Problem:
    return Problem(
        path=rel,
        line=None,
        code="unsafe-path",
        message="is a symbolic link",
        hint="replace the link with the file itself",
    )


#: The generator's own contract with the descriptor: the primary key of every table it reads. The descriptor
#: is an editable file, so a pull request that drops a key (and with it the uniqueness of ids) is refused
#: here rather than trusted.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "terms": ("id",),
    "concepts": ("id",),
    "cases": ("id",),
    "questions": ("id",),
    "arguments": ("id",),
    "term_concepts": ("term", "concept"),
    "case_concepts": ("case", "concept"),
    "case_terms": ("case", "term"),
    "argument_concepts": ("argument", "concept"),
    "argument_terms": ("argument", "term"),
    "concept_related": ("concept", "related"),
    "citations": ("resource", "record", "key", "locator"),
    "contributors": ("name",),
}
#: Profile names Frictionless knows without fetching anything.
_PROFILES = frozenset({"data-package", "tabular-data-package", "data-resource", "tabular-data-resource"})


def _line_in(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def check_descriptor(descriptor: dict, text: str, where: str) -> tuple[dict, list[Problem]]:
    """Return the descriptor with every unsafe resource removed, and a problem for each.

    A resource is unsafe when Frictionless would read or fetch something outside ``datapackage/`` for it:
    a path that is a URL, absolute, climbs with ``..`` or is a list; a schema or dialect given as a path or URL
    instead of inline; a profile that is not one of the standard names. A table whose schema does not declare
    the primary key the generator relies on is refused too.

    Args:
        descriptor: The parsed ``datapackage.json``.
        text: Its text, to find the line of each problem.
        where: Its path, for the problems.
    """
    problems: list[Problem] = []

    def refuse(needle: str, field: str, message: str, hint: str) -> None:
        problems.append(
            Problem(
                path=where,
                line=_line_in(text, needle),
                code="unsafe-path",
                field=field,
                message=message,
                hint=hint,
            )
        )

    safe = {k: v for k, v in descriptor.items() if k not in ("profile", "$schema", "resources")}
    for key in ("profile", "$schema"):
        value = descriptor.get(key)
        if value is None:
            continue
        if value in _PROFILES:
            safe[key] = value
        else:
            refuse(
                f'"{key}"',
                key,
                f'{key} "{excerpt(value)}" is not a standard profile name',
                'write "data-package"',
            )
    resources = []
    for index, resource in enumerate(descriptor.get("resources", []) or []):
        if not isinstance(resource, dict):
            refuse(
                json_fragment(resource),
                "resources",
                f"resource {index + 1} is {excerpt(resource)}, not an inline resource",
                "describe the resource inline, as the others are",
            )
            continue
        name = str(resource.get("name", ""))
        path_problem = check_relative_path(
            resource.get("path"), where=where, field=f"{name or 'resource'}.path"
        )
        if path_problem is not None:
            problems.append(
                Problem(
                    path=where,
                    line=_line_in(text, json_fragment(resource.get("path"))),
                    code=path_problem.code,
                    field=path_problem.field,
                    message=path_problem.message,
                    hint=path_problem.hint,
                )
            )
            continue
        unsafe = False
        for key in ("schema", "dialect"):
            if key in resource and not isinstance(resource[key], dict):
                refuse(
                    json_fragment(resource[key]),
                    f"{name}.{key}",
                    f'{name}: the {key} is "{excerpt(resource[key])}" instead of an inline object',
                    f"write the {key} inline in datapackage.json; the guide reads no other file for it",
                )
                unsafe = True
        for key in ("profile", "$schema"):
            value = resource.get(key)
            if value is not None and value not in _PROFILES:
                refuse(
                    json_fragment(value),
                    f"{name}.{key}",
                    f'{name}: {key} "{excerpt(value)}" is not a standard profile name',
                    'write "tabular-data-resource"',
                )
                unsafe = True
        if "data" in resource:
            refuse(
                '"data"', f"{name}.data", f"{name}: inline data is not read", "keep the rows in the CSV file"
            )
            unsafe = True
        expected = PRIMARY_KEYS.get(name)
        schema = resource.get("schema")
        if expected is not None and isinstance(schema, dict):
            declared = schema.get("primaryKey")
            declared = (declared,) if isinstance(declared, str) else tuple(declared or ())
            if declared != expected:
                problems.append(
                    Problem(
                        path=where,
                        line=_line_in(text, f'"name": "{name}"'),
                        code="descriptor-contract",
                        field=f"{name}.primaryKey",
                        message=f"{name}: the primary key is {list(declared)}, the generator needs {list(expected)}",
                        hint=f'restore "primaryKey": {json_fragment(list(expected))} in the {name} schema',
                    )
                )
        if isinstance(schema, dict):
            found = [("descriptor-contract", *problem) for problem in contract_problems(resource)]
            unmarked = unmarked_markdown(resource)
            if unmarked is not None:
                found.append(("markdown-unmarked", f"{name}.fields", *unmarked))
            line = _line_in(text, f'"name": "{name}"')
            problems += [
                Problem(path=where, line=line, code=code, field=field, message=message, hint=hint)
                for code, field, message, hint in found
            ]
        if not unsafe:
            resources.append(resource)
    safe["resources"] = resources
    return safe, problems


def json_fragment(value: object) -> str:
    """Return `value` as it would appear in JSON, to find its line in the descriptor."""
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
