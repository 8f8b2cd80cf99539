"""Cite stage: Pandoc citations in, APA 7 in-text citations and references out, on pybtex.

Three steps, in pipeline order:

* `find_citations` reads Pandoc citation syntax from Markdown, skipping code, e-mail
  addresses and URLs;
* `Bibliography.parse` reads a ``.bib`` file with pybtex's BibTeX parser and collects every
  problem with the line a contributor sees in an editor;
* a `Bibliography` formats in-text citations and references with the `coguide.cite.apa` style and
  pybtex's rich-text backends, as plain text, HTML or Markdown.

Formatted references, year labels and sort keys are computed once per entry and cached, so a
site can render thousands of citations against one bibliography.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal
from urllib.parse import quote

from pybtex import errors as pybtex_errors
from pybtex.backends import BaseBackend
from pybtex.backends import html as html_backend
from pybtex.backends import markdown as markdown_backend
from pybtex.backends import plaintext as plaintext_backend
from pybtex.bibtex.utils import split_name_list
from pybtex.database import Entry, Person
from pybtex.database.input.bibtex import LowLevelParser, UndefinedMacro, month_names
from pybtex.exceptions import PybtexError
from pybtex.richtext import Text
from pybtex.scanner import PrematureEOF, PybtexSyntaxError, TokenRequired
from pybtex.textutils import normalize_whitespace
from pybtex.utils import CaseInsensitiveDict

from coguide.cite.apa import (
    APAStyle,
    EntryFacts,
    intext_narrative,
    intext_parenthetical,
    needs_author,
    sort_text,
    year_labels,
)
from coguide.markup import mask_markdown

__all__ = [
    "BIBLIOGRAPHY_PROBLEM_CODES",
    "Bibliography",
    "BibliographyProblem",
    "Citation",
    "CiteItem",
    "Format",
    "find_citations",
    "preview_id",
]

Format = Literal["text", "html", "markdown"]
"""Output formats: plain text, HTML fragments, or Markdown (italics as ``*...*``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CiteItem:
    """One cited work inside a citation.

    Attributes:
        key: The citation key, without ``@``.
        prefix: Text before the key ("see").
        locator: As written: "p. 5", "pp. 3-4", or a bare "33" (read as a page).
        suffix: Text after the locator, without its leading comma.
        suppress_author: Written ``[-@key]``: only the year is shown.
    """

    key: str
    prefix: str = ""
    locator: str = ""
    suffix: str = ""
    suppress_author: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Citation:
    """One citation in a text: ``[see @a, p. 5; @b]`` or a narrative ``@a [p. 5]``.

    Attributes:
        items: The cited works, in the order written.
        narrative: True for ``@key`` and ``@key [p. 5]`` (author in the sentence).
        start: Offset of the first character of the citation in the scanned text.
        end: Offset just past its last character.
        line: 1-based line of ``start``.
        column: 1-based column of ``start``.
    """

    items: tuple[CiteItem, ...]
    narrative: bool
    start: int
    end: int
    line: int
    column: int


@dataclass(frozen=True, kw_only=True)
class BibliographyProblem:
    """A problem found in a ``.bib`` file, at the line a contributor sees in an editor.

    Attributes:
        line: 1-based line in the ``.bib`` file.
        code: A kebab-case code from `BIBLIOGRAPHY_PROBLEM_CODES`.
        message: What is wrong.
        hint: How to fix it.
        key: The entry concerned, when known.
    """

    line: int
    code: str
    message: str
    hint: str = ""
    key: str | None = None


BIBLIOGRAPHY_PROBLEM_CODES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "bibtex-syntax": (
            "BibTeX syntax error",
            "pybtex could not read part of the .bib file (a missing comma or brace, a bare word "
            "used as a value, a name it cannot split). The entry is missing or incomplete until "
            "the line is fixed.",
        ),
        "duplicate-key": (
            "Duplicate citation key",
            "Two entries share a key; BibTeX compares keys without regard to case. "
            "Only the first entry is used, so citations could point at the wrong work.",
        ),
        "missing-author": (
            "Entry has no author",
            "APA needs someone in the author position: author, editor, or a group "
            "(organization or institution). A work that really has no author says so with "
            "options = {useauthor=false}; its title then takes the author position.",
        ),
        "missing-year": (
            "Entry has no date",
            "APA needs a year (year = {2008}) or a BibLaTeX date (date = {2019-03-05}). "
            "An undated work says so with year = {n.d.}.",
        ),
        "missing-title": (
            "Entry has no title",
            "Every reference needs the title of the work, in the capitalisation it should "
            "have in the reference list.",
        ),
    }
)
"""Every problem code `Bibliography.parse` can report: code -> (title, explanation)."""


# =========================================================================== finding citations

_KEY = r"[A-Za-z0-9_]+(?:[:.#$%&+?<>~/-]+[A-Za-z0-9_]+)*"
_KEY_ONLY = re.compile(_KEY)
# Inside brackets a key starts the part or follows white space; "-" suppresses the author.
_BRACKET_KEY = re.compile(rf"(-?)@(?:\{{([^{{}}\n]+)\}}|({_KEY}))")
_NARRATIVE_KEY = re.compile(rf"@(?:\{{([^{{}}\n]+)\}}|({_KEY}))")
_NARRATIVE_LOCATOR = re.compile(r"[ \t]?\[([^\[\]\n]*)\]")
# An "@" after these is part of a word, an address or a path, never a citation.
_NOT_BEFORE_NARRATIVE = frozenset("_.%+-/:\\@#&=~$")
_CANDIDATE = re.compile(r"[\[@]")
_BRACKET_TOKENS = re.compile(r"[\[\]]|\n[ \t]*\n")
_ITEM_TOKENS = re.compile(r"[\[\]{};]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")

# Pandoc's locator terms (and their abbreviations); anything else after a key is a suffix.
_LOCATOR_LABELS = (
    "pages",
    "page",
    "pp.",
    "p.",
    "chapters",
    "chapter",
    "chaps.",
    "chap.",
    "ch.",
    "sections",
    "section",
    "secs.",
    "sec.",
    "§§",
    "§",
    "paragraphs",
    "paragraph",
    "paras.",
    "para.",
    "¶¶",
    "¶",
    "volumes",
    "volume",
    "vols.",
    "vol.",
    "figures",
    "figure",
    "figs.",
    "fig.",
    "lines",
    "line",
    "ll.",
    "l.",
    "notes",
    "note",
    "nn.",
    "n.",
    "columns",
    "column",
    "cols.",
    "col.",
    "parts",
    "part",
    "pts.",
    "pt.",
    "books",
    "book",
    "bks.",
    "bk.",
    "verses",
    "verse",
    "vv.",
    "v.",
    "numbers",
    "number",
    "nos.",
    "no.",
    "folios",
    "folio",
    "fols.",
    "fol.",
    "opus",
    "opp.",
    "op.",
    "s.vv.",
    "s.v.",
    "tables",
    "table",
    # UK legislation: section, schedule, article, regulation.
    "ss.",
    "s.",
    "sch.",
    "arts.",
    "art.",
    "regs.",
    "reg.",
)
_PAGE_LABELS = frozenset({"p.", "pp.", "page", "pages"})
_NUMBER = r"\d+(?:[.:]\d+)*(?:ff?\.?|[a-z](?![A-Za-z]))?"
_LOCATOR_TOKEN = rf"(?:{_NUMBER}|(?:[ivxlcdm]+|[IVXLCDM]+)(?![A-Za-z]))"
_LOCATOR_VALUE = rf"{_LOCATOR_TOKEN}(?:\s*[-–—]+\s*{_LOCATOR_TOKEN}|\s*(?:,|&|\band\b)\s*(?=\d){_NUMBER})*"
_LOCATOR = re.compile(
    rf"(?:(?P<label>{'|'.join(re.escape(label) for label in sorted(_LOCATOR_LABELS, key=len, reverse=True))})"
    rf"(?:(?<=[.§¶])\s*|\s+)(?P<value>{_LOCATOR_VALUE})"
    rf"|(?P<bare>{_NUMBER}(?:\s*[-–—]+\s*{_NUMBER}|\s*(?:,|&)\s*{_NUMBER})*))",
    re.IGNORECASE,
)


_Found = tuple[tuple[CiteItem, ...], bool, int]
"""What a reader found: the items, whether narrative, and the offset just past the citation."""


def find_citations(text: str) -> list[Citation]:
    """Find every Pandoc citation in Markdown text.

    Recognises ``[@key]``, ``[@key, p. 5]``, ``[@key, pp. 3-4]``, ``[@a; @b, p. 98]``,
    ``[see @key, p. 5]``, ``[-@key]``, ``[@{odd key}]``, and narrative ``@key`` and
    ``@key [p. 5]``. Skips fenced and indented code blocks, inline code spans, HTML comments
    and tags, e-mail addresses and ``@`` inside URLs. Keys follow Pandoc's rules: they start
    with a letter, digit or ``_`` and may contain ``:.#$%&+?<>~/-`` only between those, so
    trailing punctuation is not part of the key.

    Returns:
        The citations in text order, with offsets into ``text`` and 1-based line and column.
    """
    # Each text is parsed once per build: validation's results go into the model, which the pages read.
    return _scan_citations(text)


def _scan_citations(text: str) -> list[Citation]:
    masked = mask_markdown(text)
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
    citations: list[Citation] = []
    position = 0
    while (candidate := _CANDIDATE.search(masked, position)) is not None:
        start = candidate.start()
        found: _Found | int | None
        if masked[start] == "[":
            found = _read_bracketed(text, masked, start)
        else:
            found = _read_narrative(text, masked, start)
        if found is None:
            position = start + 1
        elif isinstance(found, int):
            position = found
        else:
            items, narrative, end = found
            line = bisect.bisect_right(line_starts, start)
            citations.append(
                Citation(
                    items=items,
                    narrative=narrative,
                    start=start,
                    end=end,
                    line=line,
                    column=start - line_starts[line - 1] + 1,
                )
            )
            position = end
    return citations


def _read_bracketed(text: str, masked: str, start: int) -> _Found | int | None:
    """Read ``[...]`` at ``start``: the citation, a position to skip to (a link), or None."""
    if (start and masked[start - 1] == "\\") or masked.startswith("[^", start):
        return None
    end = _bracket_end(masked, start)
    if end is None:
        return None
    if text[end + 1 : end + 2] in ("(", "[", ":"):
        # A link, an image or a reference definition: its text is not a citation.
        return end + 1
    items = _read_items(text, masked, start + 1, end)
    if items is None:
        return None
    return items, False, end + 1


def _bracket_end(masked: str, start: int) -> int | None:
    close = masked.find("]", start)
    if close < 0:
        return None
    if masked.find("[", start + 1, close) < 0:
        # The usual case, no nested brackets: only a paragraph break can stop it.
        if "\n" in masked[start:close] and _PARAGRAPH_BREAK.search(masked, start, close):
            return None
        return close
    depth = 0
    for token in _BRACKET_TOKENS.finditer(masked, start):
        if token.group() == "[":
            depth += 1
        elif token.group() == "]":
            depth -= 1
            if depth == 0:
                return token.start()
        else:
            return None  # a blank line ends the paragraph first
    return None


def _read_items(text: str, masked: str, start: int, end: int) -> tuple[CiteItem, ...] | None:
    bounds: list[tuple[int, int]] = []
    depth = 0
    part_start = start
    tokens = _ITEM_TOKENS.finditer(masked, start, end) if masked.find(";", start, end) >= 0 else ()
    for token in tokens:
        character = token.group()
        if character in "[{":
            depth += 1
        elif character in "]}":
            depth -= 1
        elif depth == 0:
            bounds.append((part_start, token.start()))
            part_start = token.end()
    bounds.append((part_start, end))
    items: list[CiteItem] = []
    for part_start, part_end in bounds:
        for match in _BRACKET_KEY.finditer(masked, part_start, part_end):
            if match.start() == part_start or masked[match.start() - 1].isspace():
                break
        else:
            return None
        locator, suffix = _split_locator(text[match.end() : part_end])
        prefix = text[part_start : match.start()]
        items.append(
            CiteItem(
                key=match.group(2) or match.group(3),
                prefix=" ".join(prefix.split()) if prefix else "",
                locator=locator,
                suffix=suffix,
                suppress_author=bool(match.group(1)),
            )
        )
    return tuple(items)


def _read_narrative(text: str, masked: str, start: int) -> _Found | None:
    before = masked[start - 1] if start else " "
    if before.isalnum() or before in _NOT_BEFORE_NARRATIVE:
        return None
    match = _NARRATIVE_KEY.match(masked, start)
    if match is None:
        return None
    end = match.end()
    locator = suffix = ""
    bracket = _NARRATIVE_LOCATOR.match(masked, end)
    if (
        bracket is not None
        and text[bracket.end() : bracket.end() + 1] not in ("(", "[")
        and "@" not in bracket.group(1)
    ):
        locator, suffix = _split_locator(text[bracket.start(1) : bracket.end(1)])
        end = bracket.end()
    item = CiteItem(key=match.group(1) or match.group(2), locator=locator, suffix=suffix)
    return (item,), True, end


@functools.lru_cache(maxsize=4096)
def _split_locator(rest: str) -> tuple[str, str]:
    """Split what follows a key into (locator, suffix), as Pandoc does."""
    rest = " ".join(rest.split()).lstrip(",").strip()
    if not rest:
        return "", ""
    if rest.startswith("{") and "}" in rest:
        close = rest.index("}")
        return rest[1:close].strip(), rest[close + 1 :].lstrip(" ,")
    match = _LOCATOR.match(rest)
    if match is None or (match.end() < len(rest) and rest[match.end()] not in " ,;"):
        return "", rest
    return match.group().strip(), rest[match.end() :].lstrip(" ,")


@functools.lru_cache(maxsize=4096)
def _display_locator(locator: str) -> str:
    """Return a locator as APA prints it: "p. 5", "pp. 3–4" (a bare "33" is a page)."""
    locator = " ".join(locator.split())
    match = _LOCATOR.fullmatch(locator)
    if match is None:
        return _en_dashes(locator)
    value = _en_dashes(match.group("value") or match.group("bare"))
    label = match.group("label")
    if label is None or label.lower() in _PAGE_LABELS:
        label = "pp." if re.search(r"[–,&]|\band\b", value) else "p."
    return f"{label} {value}"


def clear_caches() -> None:
    """Forget every locator split, LaTeX value decoded and name abbreviated so far.

    The caches only save time; benchmarks empty them so that a measurement pays for the work it times.
    """
    from coguide.cite import apa

    for cached in (
        _split_locator,
        _display_locator,
        apa.latex_to_text,
        apa._decode,
        apa._plain,
        apa.sort_text,
        apa.initials,
    ):
        cached.cache_clear()


def _en_dashes(value: str) -> str:
    return re.sub(r"(?<=\w)\s*[-–—]+\s*(?=\w)", "–", value)


# =========================================================================== rich-text backends

_SYMBOLS = MappingProxyType({"ndash": "–", "newblock": " ", "nbsp": "\u00a0"})
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"


class _TextBackend(plaintext_backend.Backend):
    symbols = _SYMBOLS


class _HTMLBackend(html_backend.Backend):
    """pybtex's HTML backend, with URLs escaped in attributes and braces leaving no trace."""

    symbols = MappingProxyType({"ndash": "–", "newblock": " ", "nbsp": "&nbsp;"})

    def format_protected(self, text: str) -> str:
        return text

    def format_href(self, url: str, text: str, external: bool = False) -> str:
        if not text:
            return ""
        return f'<a href="{html.escape(quote(url, safe=_URL_SAFE), quote=True)}">{text}</a>'


class _PreviewBackend(_HTMLBackend):
    """HTML for the hover preview, which sits inside a link's neighbour and must hold no links."""

    def format_href(self, url: str, text: str, external: bool = False) -> str:
        return text


class _MarkdownBackend(markdown_backend.Backend):
    r"""pybtex's Markdown backend, escaping only what Markdown would misread.

    pybtex escapes every punctuation mark ("Needham, C\. \(2008\)"); here only emphasis,
    code, link brackets, raw HTML and entity-like ampersands are escaped.
    """

    symbols = _SYMBOLS

    def format_str(self, text: str) -> str:
        text = re.sub(r"&(?=#?\w+;)", "&amp;", text).replace("<", "&lt;")
        return re.sub(r"([\\`*_\[\]])", r"\\\1", text)

    def format_href(self, url: str, text: str, external: bool = False) -> str:
        if not text:
            return ""
        address = quote(url, safe=_URL_SAFE)
        if text == self.format_str(url):
            return f"<{address}>"
        return f"[{text}]({address.replace('(', '%28').replace(')', '%29')})"


_BACKENDS: Mapping[str, BaseBackend] = MappingProxyType(
    {"text": _TextBackend(), "html": _HTMLBackend(), "markdown": _MarkdownBackend()}
)
_PREVIEW = _PreviewBackend()


# =========================================================================== the bibliography


@dataclass(frozen=True, kw_only=True)
class _Record:
    key: str
    entry: Entry
    line: int
    source: str
    complete: bool


class Bibliography:
    """A parsed ``.bib`` file that formats APA 7 citations and references.

    Build one with `parse` (which reports problems) or `from_file` (which refuses them).
    """

    def __init__(self, records: Iterable[_Record] = ()) -> None:
        self._records: dict[str, _Record] = {}
        for record in records:
            self._records.setdefault(record.key, record)
        self._style = APAStyle()
        self._facts: dict[str, EntryFacts] = {
            key: self._style.facts(record.entry) for key, record in self._records.items()
        }
        ordered = sorted(self._records, key=lambda key: self._facts[key].sort_key)
        self._rank = {key: rank for rank, key in enumerate(ordered)}
        labels = year_labels([self._facts[key] for key in ordered])
        self._labels = dict(zip(ordered, labels, strict=True))
        self._by_lower = {key.lower(): key for key in reversed(self._records)}
        self._references: dict[str, Text] = {}
        self._rendered: dict[tuple[str, str], str] = {}
        self._author_dates: dict[tuple[str, bool, str], str] = {}
        self._narratives: dict[tuple[str, str], tuple[str, str]] = {}
        self._cores: dict[tuple[str, str, bool, str], str] = {}

    # ------------------------------------------------------------------ building

    @classmethod
    def parse(cls, text: str) -> tuple[Bibliography, list[BibliographyProblem]]:
        """Parse BibTeX/BibLaTeX source, collecting every problem instead of raising.

        Reports syntax errors, duplicate keys (the first entry wins) and entries without an
        author, editor or group, without a year or date (``year = {n.d.}`` marks an undated
        work), or without a title. Entries that parse are usable even when others are not.

        Returns:
            The bibliography and the problems, ordered by line.
        """
        records, problems = _read_bibtex(text)
        bibliography = cls(records)
        for record in records:
            if record.complete and bibliography._records.get(record.key) is record:
                problems += bibliography._check_record(record)
        problems.sort(key=lambda problem: problem.line)
        return bibliography, problems

    @classmethod
    def from_entries(cls, entries: Mapping[str, tuple[Entry, str]]) -> Bibliography:
        """Return a bibliography of entries built in code, each with the BibTeX source it is published as.

        Nothing is parsed or checked: the caller builds each pybtex `Entry` from values it has escaped
        (the guide's own "Cite this page" entries).

        Args:
            entries: Each entry and its BibTeX source, by key.
        """
        return cls(
            _Record(key=key, entry=entry, line=0, source=source, complete=True)
            for key, (entry, source) in entries.items()
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Bibliography:
        """Read a ``.bib`` file (UTF-8).

        Raises:
            ValueError: The file has problems; the message lists each as ``path:line: [code] message``.
        """
        bibliography, problems = cls.parse(Path(path).read_text(encoding="utf-8-sig"))
        if problems:
            lines = [f"{path}:{problem.line}: [{problem.code}] {problem.message}" for problem in problems]
            hinted = [
                f"{line} ({problem.hint})" if problem.hint else line
                for line, problem in zip(lines, problems, strict=True)
            ]
            count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
            raise ValueError(f"{count} in {path}:\n" + "\n".join(hinted))
        return bibliography

    def _check_record(self, record: _Record) -> list[BibliographyProblem]:
        entry, key, facts = record.entry, record.key, self._facts[record.key]
        problems: list[BibliographyProblem] = []
        has_creator = bool(entry.persons.get("author") or entry.persons.get("editor")) or any(
            (entry.fields.get(name) or "").strip() for name in ("organization", "institution")
        )
        if not has_creator and needs_author(entry):
            problems.append(
                BibliographyProblem(
                    line=record.line,
                    code="missing-author",
                    message=f'entry "{key}" has no author, editor, organization or institution',
                    hint="add author = {Surname, Given and Surname, Given}, or organization = {Name} "
                    "for a group author; if the work has no author, add options = {useauthor=false}",
                    key=key,
                )
            )
        if facts.status == "missing":
            date = (entry.fields.get("date") or "").strip()
            problems.append(
                BibliographyProblem(
                    line=record.line,
                    code="missing-year",
                    message=f'entry "{key}" has a date "{date}" that is not YYYY, YYYY-MM or YYYY-MM-DD'
                    if date
                    else f'entry "{key}" has no year or date',
                    hint="write year = {2008} or date = {2019-03-05}; "
                    "for an undated work write year = {n.d.}",
                    key=key,
                )
            )
        if not (entry.fields.get("title") or "").strip():
            problems.append(
                BibliographyProblem(
                    line=record.line,
                    code="missing-title",
                    message=f'entry "{key}" has no title',
                    hint="add title = {...} with the capitalisation the reference list should show",
                    key=key,
                )
            )
        return problems

    # ------------------------------------------------------------------ looking up

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key, in file order."""
        return tuple(self._records)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._records

    def __len__(self) -> int:
        return len(self._records)

    def line_of(self, key: str) -> int:
        """Return the line of the ``.bib`` file where the entry starts."""
        return self._record(key).line

    def suggest(self, key: str) -> str | None:
        """Return the existing key closest to ``key`` (for "did you mean"), or None."""
        if key in self._records:
            return key
        same_but_case = self._by_lower.get(key.lower())
        if same_but_case is not None:
            return same_but_case
        matches = difflib.get_close_matches(key, self._records, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def sort_keys(self, keys: Iterable[str]) -> list[str]:
        """Return the keys, without repeats, in APA reference-list order.

        Raises:
            KeyError: A key is not in the bibliography.
        """
        unique = dict.fromkeys(keys)
        for key in unique:
            self._record(key)
        return sorted(unique, key=self._rank.__getitem__)

    def year_label(self, key: str) -> str:
        """Return the year as citations and the reference list show it: "2008", "2017a", "n.d."."""
        self._record(key)
        return self._labels[key]

    def entry(self, key: str) -> Entry:
        """Return the parsed pybtex entry, with its fields as written (braces kept) and its persons."""
        return self._record(key).entry

    def facts(self, key: str) -> EntryFacts:
        """Return what the APA style decided about an entry (kind, creator, dates, plain title), made once."""
        self._record(key)
        return self._facts[key]

    def bibtex(self, key: str) -> str:
        """Return the entry's BibTeX source exactly as written in the file."""
        return self._record(key).source

    def _record(self, key: str) -> _Record:
        try:
            return self._records[key]
        except KeyError:
            suggestion = self.suggest(key)
            hint = f' (did you mean "{suggestion}"?)' if suggestion else ""
            raise KeyError(f'"{key}" is not in the bibliography{hint}') from None

    # ------------------------------------------------------------------ references

    def format_reference(self, key: str, fmt: Format = "text") -> str:
        """Return the APA 7 reference for one entry, as plain text, HTML or Markdown.

        HTML and Markdown escape everything taken from the ``.bib`` file; DOIs and http(s) URLs
        become links (other URL schemes stay text).

        Raises:
            KeyError: The key is not in the bibliography (the message suggests the closest key).
        """
        cached = self._rendered.get((key, fmt))
        if cached is None:
            cached = self._rendered[key, fmt] = self._reference(key).render(_BACKENDS[fmt])
        return cached

    def reference_list(self, keys: Iterable[str] | None = None, fmt: Format = "text") -> list[str]:
        """Return formatted references in APA order: for ``keys`` (repeats dropped), or all.

        Raises:
            KeyError: A key is not in the bibliography.
        """
        chosen = self.sort_keys(self._records if keys is None else keys)
        return [self.format_reference(key, fmt) for key in chosen]

    def _reference(self, key: str) -> Text:
        reference = self._references.get(key)
        if reference is None:
            entry = self._record(key).entry
            reference = self._references[key] = self._style.format_entry(self._labels[key], entry).text
        return reference

    def preview(self, key: str) -> str:
        """Return the reference for a citation's hover/focus preview: HTML with its addresses as text, not links.

        Raises:
            KeyError: The key is not in the bibliography.
        """
        cached = self._rendered.get((key, "preview"))
        if cached is None:
            cached = self._rendered[key, "preview"] = self._reference(key).render(_PREVIEW)
        return cached

    # ------------------------------------------------------------------ citations

    def format_citation(
        self, citation: Citation, fmt: Format = "text", href: Callable[[str], str] | None = None
    ) -> str:
        """Return one citation in APA 7 form: "(see Needham, 2008, p. 5)", "Needham (2008)".

        In HTML each item links to ``href(key)`` (default ``#ref-{key}``) and is described by the
        page's element with the id `preview_id` (``cite-{key}``), which the page must hold once.
        A citation with an unknown key comes back in Pandoc syntax.
        """
        rendered = self._format_citation(citation, _Writer(fmt, href))
        return _pandoc_source(citation) if rendered is None else rendered

    def render_text(
        self,
        text: str,
        fmt: Format = "markdown",
        href: Callable[[str], str] | None = None,
        citations: Iterable[Citation] | None = None,
    ) -> tuple[str, list[str]]:
        """Replace every citation in ``text`` with its APA 7 form.

        Citations with a key that is not in the bibliography are left as written (validation
        reports them). In HTML, every citation of a key is described by the same element
        (`preview_id`), which the page must hold once.
        `citations` are the text's citations when already parsed
        (``find_citations(text)``); without them the text is parsed here.

        Returns:
            The new text, and the cited keys that are in the bibliography, in first-cited order.
        """
        writer = _Writer(fmt, href)
        cited: dict[str, None] = {}
        pieces: list[str] = []
        position = 0
        for citation in find_citations(text) if citations is None else citations:
            for item in citation.items:
                if item.key in self._records:
                    cited.setdefault(item.key)
            rendered = self._format_citation(citation, writer)
            if rendered is not None:
                pieces += [text[position : citation.start], rendered]
                position = citation.end
        pieces.append(text[position:])
        return "".join(pieces), list(cited)

    def _format_citation(self, citation: Citation, writer: _Writer) -> str | None:
        records = self._records
        items = citation.items
        if not items:
            return None
        for item in items:
            if item.key not in records:
                return None
        if citation.narrative:
            return ", ".join(self._format_narrative_item(item, writer) for item in items)
        if len(items) == 1:
            # The usual case, one work: nothing to sort or collapse.
            item = items[0]
            piece = writer.link(item.key, self._core(item, not item.suppress_author, writer))
            if item.prefix:
                piece = f"{writer.page_text(item.prefix)} {piece}"
            if item.suffix:
                piece = f"{piece}, {writer.page_text(item.suffix)}"
            return f"({piece})"
        items = sorted(items, key=self._item_rank)
        groups: list[list[str]] = []
        previous: CiteItem | None = None
        for item in items:
            identity = self._facts[item.key].identity
            collapse = (
                previous is not None
                and identity is not None
                and identity == self._facts[previous.key].identity
                and not (item.prefix or item.suppress_author or previous.suppress_author or previous.suffix)
            )
            piece = writer.link(item.key, self._core(item, not (collapse or item.suppress_author), writer))
            if item.prefix:
                piece = f"{writer.page_text(item.prefix)} {piece}"
            if item.suffix:
                piece = f"{piece}, {writer.page_text(item.suffix)}"
            if collapse:
                groups[-1].append(piece)
            else:
                groups.append([piece])
            previous = item
        return "(" + "; ".join(", ".join(group) for group in groups) + ")"

    def _core(self, item: CiteItem, show_author: bool, writer: _Writer) -> str:
        """Return an item's author–date (or date) and locator, formatted once per key, locator and format."""
        cache_key = (item.key, item.locator, show_author, writer.fmt)
        core = self._cores.get(cache_key)
        if core is None:
            core = self._author_date(item.key, show_author, writer.fmt)
            if item.locator:
                core = f"{core}, {writer.escape(_display_locator(item.locator))}"
            self._cores[cache_key] = core
        return core

    def _item_rank(self, item: CiteItem) -> tuple[str, int]:
        """Order items alphabetically by the author shown: for "X, 2010, as cited in @y" that is X."""
        if item.prefix and _AS_CITED.search(item.prefix):
            return sort_text(item.prefix), self._rank[item.key]
        return sort_text(self._author_date(item.key, True, "text")), self._rank[item.key]

    def _format_narrative_item(self, item: CiteItem, writer: _Writer) -> str:
        date = self._narrative_parts(item.key, writer.fmt)[1]
        inside = [date] if date else []
        if item.locator:
            inside.append(writer.escape(_display_locator(item.locator)))
        if item.suffix:
            inside.append(writer.page_text(item.suffix))
        if item.suppress_author:
            return "(" + ", ".join(inside) + ")" if inside else ""
        piece = writer.link(item.key, self._narrative_parts(item.key, writer.fmt)[0])
        if item.prefix:
            piece = f"{writer.page_text(item.prefix)} {piece}"
        return f"{piece} ({', '.join(inside)})" if inside else piece

    def _author_date(self, key: str, show_author: bool, fmt: Format) -> str:
        cache_key = (key, show_author, fmt)
        cached = self._author_dates.get(cache_key)
        if cached is None:
            text = intext_parenthetical(self._facts[key], self._labels[key], show_author=show_author)
            cached = self._author_dates[cache_key] = text.render(_BACKENDS[fmt])
        return cached

    def _narrative_parts(self, key: str, fmt: Format) -> tuple[str, str]:
        cached = self._narratives.get((key, fmt))
        if cached is None:
            author, date = intext_narrative(self._facts[key], self._labels[key])
            backend = _BACKENDS[fmt]
            cached = self._narratives[key, fmt] = (author.render(backend), backend.format_str(date))
        return cached


_AS_CITED = re.compile(r"\bas cited in\s*$", re.IGNORECASE)


class _Writer:
    """Output details of one rendering: format and link targets."""

    def __init__(self, fmt: Format, href: Callable[[str], str] | None) -> None:
        self.fmt = fmt
        self.escape = _BACKENDS[fmt].format_str
        self._href = href
        self._openings: dict[str, str] = {}

    def page_text(self, value: str) -> str:
        """Return prefix or suffix text from the page: already Markdown, but escaped for HTML."""
        return html.escape(value, quote=False) if self.fmt == "html" else value

    def link(self, key: str, inner: str) -> str:
        """Wrap an item's author-date in its link to the bibliography entry (HTML only).

        The link is the citation's whole markup: the key is its fragment. The page holds one element per
        cited key with the id `preview_id` (``cite-{key}``): the reference in its reference list, or an
        entry of its hidden preview list. In the browser, ``cite.js`` makes that element the link's
        description and fills the hover/focus preview from it, so the reference is written once per page,
        not once per citation, and each citation costs no more markup than its link.
        """
        if self.fmt != "html":
            return inner
        opening = self._openings.get(key)
        if opening is None:
            target = self._href(key) if self._href else f"#ref-{key}"
            opening = self._openings[key] = f'<a class="cite" href="{html.escape(target, quote=True)}">'
        return f"{opening}{inner}</a>"


def preview_id(key: str) -> str:
    """Return the HTML id of the element that describes a key's citations on a page (``cite-{key}``), escaped."""
    return html.escape(f"cite-{key}", quote=True)


def _pandoc_source(citation: Citation) -> str:
    def written(item: CiteItem) -> str:
        key = item.key if _KEY_ONLY.fullmatch(item.key) else f"{{{item.key}}}"
        parts = [f"{item.prefix} " if item.prefix else "", "-" if item.suppress_author else "", "@", key]
        tail = ", ".join(part for part in (item.locator, item.suffix) if part)
        return "".join(parts), tail

    if citation.narrative:
        head, tail = written(citation.items[0])
        return f"{head} [{tail}]" if tail else head
    return "[" + "; ".join(", ".join(filter(None, written(item))) for item in citation.items) + "]"


# =========================================================================== reading BibTeX


def _read_bibtex(text: str) -> tuple[list[_Record], list[BibliographyProblem]]:
    """Read entries with pybtex's BibTeX scanner, keeping line numbers and every error."""
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def line_at(offset: int) -> int:
        return bisect.bisect_right(line_starts, offset)

    errors: list[tuple[PybtexSyntaxError, int, str | None]] = []

    def collect(error: PybtexSyntaxError) -> None:
        errors.append((error, scanner.command_start or 0, scanner.current_entry_key))

    scanner = LowLevelParser(text, macros=CaseInsensitiveDict(month_names), handle_error=collect)
    records: list[_Record] = []
    problems: list[BibliographyProblem] = []
    first_line: dict[str, int] = {}
    reported = 0
    for command, payload in scanner:
        command_start = scanner.command_start or 0
        broken = any(start == command_start for _, start, _ in errors[reported:])
        problems += [
            _syntax_problem(error, start, key, text, line_at) for error, start, key in errors[reported:]
        ]
        reported = len(errors)
        if command.lower() in ("string", "preamble"):
            continue
        key, fields = payload
        if not key:
            continue
        line = line_at(command_start)
        entry, entry_problems = _build_entry(command, key, fields, line)
        problems += entry_problems
        if key.lower() in first_line:
            problems.append(
                BibliographyProblem(
                    line=line,
                    code="duplicate-key",
                    message=f'duplicate key "{key}" (first defined on line {first_line[key.lower()]})',
                    hint="rename or delete one of the entries; keys are compared without regard to case",
                    key=key,
                )
            )
            continue
        first_line[key.lower()] = line
        source = text[command_start : scanner.pos].rstrip()
        records.append(_Record(key=key, entry=entry, line=line, source=source, complete=not broken))
    problems += [_syntax_problem(error, start, key, text, line_at) for error, start, key in errors[reported:]]
    return records, problems


def _build_entry(
    entry_type: str, key: str, fields: list[tuple[str, list[str]]], line: int
) -> tuple[Entry, list[BibliographyProblem]]:
    entry = Entry(entry_type)
    entry.key = key
    problems: list[BibliographyProblem] = []
    seen: set[str] = set()
    for name, value_parts in fields:
        lowered = name.lower()
        if lowered in seen:
            problems.append(
                BibliographyProblem(
                    line=line,
                    code="bibtex-syntax",
                    message=f'entry "{key}" has the field "{name}" twice',
                    hint="delete one of the two; only the first is used",
                    key=key,
                )
            )
            continue
        seen.add(lowered)
        value = normalize_whitespace("".join(value_parts))
        if lowered in Person.valid_roles:
            # pybtex reports names it cannot split through its global error hook; capture them here.
            with pybtex_errors.capture() as captured:
                for name_string in split_name_list(value):
                    entry.add_person(Person(name_string), lowered)
            problems += [
                BibliographyProblem(
                    line=line,
                    code="bibtex-syntax",
                    message=f'entry "{key}": {error}',
                    hint='write each name as "Surname, Given" and separate names with " and "',
                    key=key,
                )
                for error in captured
            ]
        else:
            entry.fields[name] = value
    return entry, problems


_FIELD_START = re.compile(r"\s*([A-Za-z][\w-]*)\s*=")
_SWALLOWED_FIELD = re.compile(r"[ \t]*([A-Za-z][\w-]*)[ \t]*=")
_BRACES_AND_NEWLINES = re.compile(r"\\[{}]|[{}]|\n")


def _unclosed_value(text: str, start: int, stop: int) -> tuple[int, str | None] | None:
    """Find a braced value left open: (its offset, the first ``field =`` line it swallowed, if any)."""
    depth = 0
    value_start = start
    for match in _BRACES_AND_NEWLINES.finditer(text, start, stop):
        token = match.group()
        if token == "{":
            depth += 1
            if depth == 2:
                value_start = match.start()
        elif token == "}":
            depth -= 1
        elif token == "\n" and depth >= 2:
            field = _SWALLOWED_FIELD.match(text, match.end())
            if field:
                return value_start, field.group(1)
    return (value_start, None) if depth >= 2 else None


def _syntax_problem(
    error: PybtexSyntaxError, entry_start: int, key: str | None, text: str, line_at: Callable[[int], int]
) -> BibliographyProblem:
    """Turn a pybtex syntax error into a problem at the line where the fix belongs."""
    detail = PybtexError.__str__(error)
    entry_line = line_at(entry_start)
    line = error.lineno or entry_line
    where = f'entry "{key}"' if key else "this entry"
    position = error.error_context_info[-1] if isinstance(error, TokenRequired) else None
    if isinstance(error, PrematureEOF) or (position is not None and text.startswith("@", position)):
        # The file (or the next entry) begins before this entry closes: the fix is in this entry,
        # usually a value whose closing brace is missing and which swallowed the fields after it.
        end = "the end of the file" if isinstance(error, PrematureEOF) else f"the next entry on line {line}"
        swallowed = _unclosed_value(text, entry_start, len(text) if position is None else position)
        if swallowed is not None:
            value_start, field = swallowed
            runs_into = f'into the field "{field}" and on to' if field else "on to"
            return BibliographyProblem(
                line=line_at(value_start),
                code="bibtex-syntax",
                message=f"{where}: the value starting on this line has no closing brace, so it runs "
                f"{runs_into} {end}",
                hint="add the missing } at the end of the value",
                key=key,
            )
        return BibliographyProblem(
            line=entry_line,
            code="bibtex-syntax",
            message=f"{where} is not closed before {end}",
            hint="look for an unbalanced { or a missing closing } in this entry",
            key=key,
        )
    if isinstance(error, UndefinedMacro):
        return BibliographyProblem(
            line=line,
            code="bibtex-syntax",
            message=f'{where}: "{detail}" is a bare word, read as an undefined @string',
            hint=f"put the value in braces: {{{detail}}}",
            key=key,
        )
    if position is not None:
        field = _FIELD_START.match(text, position)
        if field and ("'}'" in detail or "')'" in detail):
            before = text[:position].rstrip()
            return BibliographyProblem(
                line=line_at(len(before) - 1) if before else line,
                code="bibtex-syntax",
                message=f'{where}: missing comma before the field "{field.group(1)}"',
                hint="end every field with a comma",
                key=key,
            )
    return BibliographyProblem(
        line=line,
        code="bibtex-syntax",
        message=f"{where}: {detail}",
        hint="entries look like @type{key, field = {value}, field = {value}}",
        key=key,
    )
