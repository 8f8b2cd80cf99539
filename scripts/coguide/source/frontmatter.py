"""Validate: the front-matter keys a page may set, each with its type, checked before any engine reads them.

The theme prints several front-matter values into the page without escaping them (the description into a
``<meta>`` attribute, the title into ``<title>``), and the blog plugin turns others into links and dates. So
front matter is input like any other: every key must be one the guide supports, every value of its type,
every text free of markup characters, and every date a real date. Anything else is a problem with the file,
the line and the fix, found by ``coguide check`` before the build would fail or publish it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from coguide.errors import Problem
from coguide.source.guard import excerpt
from coguide.source.load import Document
from coguide.text import is_slug

#: Characters a front-matter text may not hold: markup the theme would print unescaped, and controls.
_UNSAFE_TEXT = re.compile(r"[<>\"`\x00-\x1f\x7f]")
_HIDE = frozenset({"navigation", "toc", "footer", "feedback", "path"})


@dataclass(frozen=True, kw_only=True)
class Key:
    """One supported front-matter key.

    Attributes:
        name: The key.
        kind: What its value must be, in words, for messages.
        check: Return an error message for a bad value, or "" for a good one.
        required: Whether every page of its kind must set it.
    """

    name: str
    kind: str
    check: Callable[[Any], str]
    required: bool = False


def _text(limit: int) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            return "must be a line of text"
        if len(value) > limit:
            return f"is {len(value)} characters long; keep it under {limit}"
        bad = _UNSAFE_TEXT.search(value)
        if bad:
            return f"contains {excerpt(bad.group())!r}, which the theme would print as markup"
        return ""

    return check


def _text_list(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return "must be a list of one or more names (one `- name` line each)"
    for item in value:
        problem = _text(80)(item)
        if problem:
            return f"item {excerpt(item)!r} {problem}"
    if len(set(value)) != len(value):
        return "lists a name twice"
    return ""


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return ""
    if isinstance(value, dict):
        unknown = set(value) - {"created", "updated"}
        if unknown or "created" not in value:
            return "must be a date, or `created:` and `updated:` dates"
        return next((_date(v) for v in value.values() if _date(v)), "")
    return f"{excerpt(value)!r} is not a date"


def _boolean(value: Any) -> str:
    return "" if isinstance(value, bool) else "must be true or false"


def _minutes(value: Any) -> str:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 600
    return "" if ok else "must be a whole number of minutes"


def _slug(value: Any) -> str:
    ok = isinstance(value, str) and is_slug(value)
    return "" if ok else "must be lower-case letters and digits joined by hyphens"


def _hide(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, str) and v in _HIDE for v in value):
        return ""
    return "must be a list of: " + ", ".join(sorted(_HIDE))


def _search(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"exclude", "boost"}:
        exclude, boost = value.get("exclude", False), value.get("boost", 1)
        if isinstance(exclude, bool) and isinstance(boost, int | float) and not isinstance(boost, bool):
            return ""
    return "must be `exclude: true|false` and/or `boost: NUMBER`"


_DESCRIPTION = Key(name="description", kind="text", check=_text(300))
_TITLE = Key(name="title", kind="text", check=_text(150))

#: The keys an essay (``docs/blog/posts/``) may set: what the blog plugin and the model read.
POST_KEYS: tuple[Key, ...] = (
    Key(name="date", kind="date (YYYY-MM-DD)", check=_date, required=True),
    Key(name="authors", kind="list of author ids", check=_text_list, required=True),
    Key(name="categories", kind="list of categories", check=_text_list, required=True),
    Key(name="description", kind="text", check=_text(300), required=True),
    _TITLE,
    Key(name="slug", kind="slug", check=_slug),
    Key(name="draft", kind="true or false", check=_boolean),
    Key(name="pin", kind="true or false", check=_boolean),
    Key(name="readtime", kind="minutes", check=_minutes),
)
#: The keys any other hand-written page may set.
PAGE_KEYS: tuple[Key, ...] = (
    _DESCRIPTION,
    _TITLE,
    Key(name="hide", kind="list", check=_hide),
    Key(name="search", kind="settings", check=_search),
)


def check_front_matter(doc: Document, authors: Collection[str], *, parsed: bool = True) -> list[Problem]:
    """Check one page's front matter against the keys its kind supports.

    Args:
        doc: The page as loaded.
        authors: The author ids ``docs/blog/.authors.yml`` defines (essays only).
        parsed: False when the front matter could not be read (already a problem): its keys are then
            unread rather than missing, and only what was read is checked.

    Returns:
        A problem for each unknown key, missing required key, bad value and unknown author.
    """
    keys = {k.name: k for k in (POST_KEYS if doc.is_post else PAGE_KEYS)}
    problems: list[Problem] = []

    def problem(key: str, code: str, message: str, hint: str) -> None:
        problems.append(
            Problem(
                path=doc.path,
                line=doc.meta_lines.get(key, 1),
                code=code,
                field=key,
                message=message,
                hint=hint,
            )
        )

    for key, value in doc.meta.items():
        spec = keys.get(str(key))
        if spec is None:
            problem(
                str(key),
                "unknown-front-matter",
                f'front matter key "{excerpt(key, 40)}" is not supported',
                "use only: " + ", ".join(keys),
            )
            continue
        message = spec.check(value)
        if message:
            problem(
                spec.name, "front-matter", f'front matter "{spec.name}" {message}', f"write a {spec.kind}"
            )
    for spec in keys.values():
        if parsed and spec.required and spec.name not in doc.meta:
            problem(
                spec.name,
                "front-matter",
                f'front matter has no "{spec.name}"',
                f"add `{spec.name}:` ({spec.kind}) between the --- lines (see CONTRIBUTING.md)",
            )
    if doc.is_post and isinstance(doc.meta.get("authors"), list):
        for author in doc.meta["authors"]:
            if isinstance(author, str) and author not in authors:
                problem(
                    "authors",
                    "unknown-author",
                    f'author "{excerpt(author, 40)}" is not in docs/blog/.authors.yml',
                    "add the author there, or use one of: " + ", ".join(sorted(authors)),
                )
    return problems
