"""Markup: the safe Markdown subset that data text and essays may use, checked and rendered.

A leaf module shared by the validate and render stages. Contributors write Markdown; raw HTML and links to
anything but ``http``, ``https``, ``mailto`` or the guide's own pages are refused by the check and neutralised
by the renderer, so no text from a data file can reach a page as live markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: The one piece of raw HTML an essay may hold: the excerpt separator of the blog.
EXCERPT_MARK = "<!-- more -->"

_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]*)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


@dataclass(frozen=True, kw_only=True)
class MarkupIssue:
    """A piece of unsafe markup found in a text.

    Attributes:
        line: 1-based line within the text.
        code: ``raw-html`` or ``unsafe-link``.
        message: What was found.
        hint: How to fix it.
    """

    line: int
    code: str
    message: str
    hint: str


def is_safe_url(url: str) -> bool:
    """Return True when a link target is http(s), mailto, or a relative link within the site."""
    cleaned = _CONTROL.sub("", url)
    if not cleaned:
        return True
    scheme = urlsplit(cleaned).scheme.lower()
    if scheme:
        return scheme in SAFE_SCHEMES
    # A colon before any slash would make some browsers read a scheme (for example "javascript&colon;").
    head = cleaned.split("/", 1)[0]
    return ":" not in head and "&" not in head


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def find_unsafe_markup(text: str, *, allow_excerpt_mark: bool = False) -> list[MarkupIssue]:
    """Find raw HTML and unsafe link targets in a Markdown text.

    Args:
        text: Markdown source.
        allow_excerpt_mark: Accept the blog's ``<!-- more -->`` separator (essays only).

    Returns:
        Every issue, in text order.
    """
    issues: list[MarkupIssue] = []
    # Raw HTML needs a "<"; most texts have none, and parsing is the costly part of the check.
    tokens = _parser().parse(text) if "<" in text else []
    for token in tokens:
        children = token.children or []
        candidates = [token, *children]
        for tok in candidates:
            if tok.type not in ("html_block", "html_inline"):
                continue
            snippet = tok.content.strip()
            if allow_excerpt_mark and snippet == EXCERPT_MARK:
                continue
            line = (token.map[0] + 1) if token.map else 1
            if tok is not token and "\n" in token.content:
                index = token.content.find(tok.content)
                if index >= 0:
                    line += token.content.count("\n", 0, index)
            issues.append(
                MarkupIssue(
                    line=line,
                    code="raw-html",
                    message=f"raw HTML {snippet[:40]!r} is not allowed",
                    hint="use Markdown instead (*emphasis*, [text](https://...)); write &lt; for a literal <",
                )
            )
    for pattern in (_INLINE_LINK, _REF_DEF, _AUTOLINK):
        for match in pattern.finditer(text):
            url = match.group(1)
            if not is_safe_url(url):
                issues.append(
                    MarkupIssue(
                        line=_line_of(text, match.start(1)),
                        code="unsafe-link",
                        message=f"link target {url[:40]!r} is not allowed",
                        hint="link only to http(s):// or mailto: addresses, or to a page of the guide",
                    )
                )
    issues.sort(key=lambda i: (i.line, i.code))
    return issues


@lru_cache(maxsize=1)
def _safe_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    md.disable("image")
    return md


def render_safe_html(text: str) -> str:
    """Render contributor Markdown to HTML with raw HTML escaped and unsafe links left as plain text.

    Images are disabled: a data text has no business loading an image from another host.
    """
    return _safe_renderer().render(text)


def render_safe_inline(text: str) -> str:
    """Render a one-line contributor text to inline HTML (no surrounding paragraph)."""
    return _safe_renderer().renderInline(text)
