"""Text: the guide's one slug function and the pattern every id and file-name slug must match.

A leaf module. Ids in the data package, essay slugs in front matter, the file names `coguide new essay`
chooses, the ids the benchmark generates and the "write it as ..." hints of `coguide check` all come from
here, so the rule for a slug is written once. The work is done by python-slugify: accents are transliterated
("Café" -> ``cafe``), and every other run of characters that is not an ASCII letter or digit becomes one hyphen.
"""

from __future__ import annotations

import re

from slugify import slugify as _python_slugify

#: A slug: lower-case ASCII letters and digits joined by single hyphens (the data package's id pattern).
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def slugify(text: str, max_length: int = 0) -> str:
    """Return the slug of a text: ``"Service User"`` -> ``service-user``, ``"Café, crème"`` -> ``cafe-creme``.

    Args:
        text: Any text: a title, a label, a malformed id.
        max_length: Cut the slug to at most this many characters at a word boundary (0: no limit).

    Returns:
        The slug, or ``""`` when the text has no letters or digits.
    """
    return _python_slugify(text, max_length=max_length, word_boundary=bool(max_length))


def is_slug(value: str) -> bool:
    """Return True when `value` is already a slug (what `SLUG` matches in full)."""
    return SLUG.fullmatch(value) is not None
