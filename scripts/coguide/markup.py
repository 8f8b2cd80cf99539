"""Markup: the safe Markdown subset that data text and essays may use, checked and rendered.

A leaf module shared by the validate and render stages. Contributors write Markdown; raw HTML and links to
anything but ``http``, ``https``, ``mailto`` or the guide's own pages are refused by the check and neutralised
by the renderer, so no text from a data file can reach a page as live markup.

It also holds the one scanner for "is this code, a link or HTML" (`code_spans`, `mask_markdown`), built on
markdown-it's tokens: the citation finder, the overlap check and the essay rules read prose through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


# ------------------------------------------------------------------------------------------ masking code


# Lines that open a container whose indented content is prose, not code (lists, admonitions, content tabs,
# footnotes, definition lists). CommonMark knows only lists; MkDocs's Markdown knows them all.
_CONTAINER = re.compile(r"^ {0,3}(?:[-*+][ \t]|\d+[.)][ \t]|!!!|\?\?\?|===|\[\^[^\]]+\]:|:[ \t])")
# What a text needs before parsing can find code in it: a fence, an indented line, a backtick.
_MAY_HOLD_BLOCK_CODE = re.compile(r"```|~~~|^(?: {0,3}\t| {4})", re.MULTILINE)
# markdown-it reads "\r\n" and "\r" as line ends, as it numbers lines.
_LINE_END = re.compile(r"\r\n?|\n")
_BACKTICK_RUN = re.compile(r"`+")
_NOT_A_LINE_END = re.compile(r"[^\r\n]")
#: What `mask_markdown` blanks besides code: HTML comments and tags, autolinks (``<https://…>``, ``<name@host>``)
#: and bare URLs.
# Every alternative starts with "<", "h", "f" or "w": the look-ahead lets the engine skip every other
# position at once (the same matches, about three times faster on prose).
_MASKED = re.compile(
    r"""
    (?=[<hfw])
    (?:
    <!--.*?-->                                                     # HTML comment
  | <(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>]+)>   # autolink
  | </?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>                       # HTML tag
  | (?:https?|ftp)://[^\s<>()\[\]"]+                                # bare URL
  | \bwww\.[^\s<>()\[\]"]+
    )
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)
_LINK_DESTINATION = re.compile(r"\]\(([^()\s]*)")


@lru_cache(maxsize=1)
def _code_parser() -> MarkdownIt:
    # Raw HTML off: MkDocs parses Markdown inside HTML blocks (md_in_html), so code there is code too.
    return MarkdownIt("commonmark", {"html": False}).disable(["emphasis", "entity", "image"])


@lru_cache(maxsize=1)
def _block_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False})
    parser.core.ruler.disable(["inline", "text_join"])
    return parser


def _parser_lines(lines: list[str]) -> tuple[list[str], list[bool]]:
    """Return the lines as the parser should read them and which of them are a container's content.

    A container's content (an admonition's, a footnote's, a content tab's, a list item's) is indented prose in
    MkDocs's Markdown, where CommonMark would read four spaces as code: it is given to the parser with its
    first four columns of indentation removed, so that a fence inside it is still a fence.
    """
    shown: list[str] = []
    inside: list[bool] = []
    in_container = False
    previous_blank = True
    for line in lines:
        expanded = line.expandtabs(4)
        stripped = expanded.lstrip()
        indent = len(expanded) - len(stripped)
        if stripped:
            if _CONTAINER.match(expanded):
                in_container = True
                shown.append(line)
                inside.append(False)
                previous_blank = False
                continue
            if indent == 0 and previous_blank:
                in_container = False
        inside.append(in_container)
        shown.append(expanded[min(indent, 4) :] if in_container else line)
        previous_blank = not stripped
    return shown, inside


def code_spans(text: str, *, inline: bool = True) -> list[tuple[int, int]]:
    """Find the code in a Markdown text: fenced and indented code blocks and inline code spans.

    The code is what markdown-it's CommonMark parser reads as ``fence``, ``code_block`` and ``code_inline``
    tokens, with MkDocs's containers (admonitions, content tabs, footnotes, definition lists, list items)
    holding indented prose rather than indented code (an indented code block inside a container is not
    recognised; a fence inside one is). Parsing is the costly part, so a text with no backtick, tilde fence or
    indented line is not parsed at all.

    Args:
        text: Markdown source.
        inline: Also find inline code spans (False: code blocks only).

    Returns:
        ``(start, end)`` offsets into `text`, in text order: whole lines for a code block, the backticks
        and what they enclose for a code span.
    """
    inline = inline and "`" in text
    if not inline and not _MAY_HOLD_BLOCK_CODE.search(text):
        return []
    starts = [0, *(match.end() for match in _LINE_END.finditer(text))]
    lines = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    shown, inside = _parser_lines([_LINE_END.sub("", line) for line in lines])
    parser = _code_parser() if inline else _block_parser()
    starts.append(len(text))
    spans: list[tuple[int, int]] = []
    for token in parser.parse("\n".join(shown)):
        if token.map is None:
            continue
        first, last = token.map
        if token.type == "fence" or (token.type == "code_block" and not inside[first]):
            spans.append((starts[first], starts[last]))
        elif token.type == "inline" and token.children:
            runs = [child.markup for child in token.children if child.type == "code_inline"]
            spans += _locate_code_inline(text, starts[first], starts[last], runs)
    return sorted(spans)


def _locate_code_inline(text: str, start: int, end: int, runs: list[str]) -> list[tuple[int, int]]:
    """Find in ``text[start:end]`` the code spans markdown-it found there, opened and closed by `runs`.

    markdown-it gives a code span's backtick string but not its offset: each is found in turn as CommonMark
    finds it, a backtick string of the same length that a backslash does not escape, up to the next string of
    exactly that length.
    """
    spans: list[tuple[int, int]] = []
    found = _BACKTICK_RUN.finditer(text, start, end)
    for run in runs:
        width = len(run)
        for opening in found:
            first = before = opening.start()
            while before > start and text[before - 1] == "\\":
                before -= 1
            first += (first - before) % 2  # an escaped backtick is text, and the run starts after it
            if opening.end() - first != width:
                continue
            closing = next((m for m in found if len(m.group()) == width), None)
            if closing is not None:
                spans.append((first, closing.end()))
            break
    return spans


def blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Return `text` with every span replaced by spaces, keeping its length, offsets and line ends."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if end <= position:
            continue
        start = max(start, position)
        pieces += [text[position:start], _NOT_A_LINE_END.sub(" ", text[start:end])]
        position = end
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def mask_markdown(text: str) -> str:
    """Blank out (keeping offsets and line ends) everything in a text that is code, a link target or HTML.

    What is left is the prose a citation or a copied phrase can be in: code blocks and code spans
    (`code_spans`), HTML comments and tags, autolinks, bare URLs and the targets of inline links are replaced
    by spaces. A bare e-mail address is left: the citation reader knows an ``@`` inside a word is no citation.
    """
    masked = blank(text, code_spans(text))
    spans = [match.span() for match in _MASKED.finditer(masked)]
    spans += [match.span(1) for match in _LINK_DESTINATION.finditer(masked)]
    return blank(masked, spans)
