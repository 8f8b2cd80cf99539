"""Render (glossary): link the first mention of each label and concept in an essay to its page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from coguide.cite import Citation
from coguide.model import Site

# Spans that must never be rewritten: code, links and images, citations, raw HTML, autolinks.
_PROTECTED = re.compile(
    r"`[^`\n]*`"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|\[[^\]\n]*@[^\]\n]*\]"
    r"|-?@[A-Za-z0-9_][\w:.#$%&+?<>~/-]*"
    r"|<[^>\n]*>"
    r"|https?://\S+"
)


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One glossary entry: a record and the forms of its name that count as a mention."""

    url: str
    src_uri: str
    title: str
    definition: str
    forms: tuple[str, ...]


#: Characters that would end a Markdown link title or its target early, written as HTML character references
#: (Python-Markdown keeps references in attributes as they are, and the browser shows the characters).
_TITLE_ESCAPES = str.maketrans(
    {c: f"&#{ord(c)};" for c in "\"'()[]\\<>`*_{}"} | {"\n": " ", "\r": " ", "\t": " "}
)


#: Single words that ordinary prose mostly uses in their everyday sense ("users of the library", "a need for",
#: "quality control"), so a mention of one is not a mention of the label or concept that they also name.
COMMON_WORDS = frozenset(
    {
        "capture",
        "choice",
        "control",
        "incorporation",
        "labels",
        "member",
        "naming",
        "need",
        "parent",
        "peer",
        "reflection",
        "resident",
        "tagging",
        "terminology",
        "user",
    }
)


def _forms(name: str, extra: tuple[str, ...]) -> tuple[str, ...]:
    forms: list[str] = []
    for base in (name, *extra):
        base = base.strip()
        if not base or base.lower() in COMMON_WORDS or base.lower().removesuffix("s") in COMMON_WORDS:
            continue
        forms.append(base)
        if not base.endswith("s"):
            forms.append(base + "s")
        elif base.endswith(("ss", "x", "ch", "sh")) or base.endswith("is"):
            forms.append(base + "es")
    return tuple(dict.fromkeys(forms))


def _trie_alternation(forms: Iterable[str]) -> str:
    """Return a regex alternation of `forms` that shares their common prefixes, trying longer forms first.

    A flat ``a|b|c`` of every label and concept is tried form by form at each position of an essay, so
    linking cost grew with (essays x forms); a prefix tree is walked once per position. Optional tails are
    greedy, so the longest form that fits (and passes the boundary check after it) wins, as before.
    """
    trie: dict[str, dict] = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


class Glossary:
    """The labels and concepts of a site, matched against prose."""

    def __init__(self, site: Site, plain: Callable[[str], str]) -> None:
        entries = [
            Entry(
                url=t.url,
                src_uri=t.src_uri,
                title=t.title,
                definition=plain(t.definition),
                forms=_forms(t.label, t.also_known_as),
            )
            for t in site.terms.values()
        ]
        entries += [
            Entry(
                url=c.url,
                src_uri=c.src_uri,
                title=c.title,
                definition=plain(c.summary),
                forms=_forms(c.name, c.also_known_as),
            )
            for c in site.concepts.values()
        ]
        self.entries = entries
        self._by_form = {}
        for entry in entries:
            for form in entry.forms:
                self._by_form.setdefault(form.lower(), entry)

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """Return one regex matching every form, longest first, on word boundaries."""
        if not self._by_form:
            return None
        return re.compile(rf"(?<![\w-])({_trie_alternation(self._by_form)})(?![\w-])", re.IGNORECASE)

    def link_first_mentions(
        self, markdown: str, link: Callable[[Entry], str], citations: Sequence[Citation] = ()
    ) -> Linked:
        """Link the first mention of each entry in a Markdown text.

        Headings, code blocks, existing links, citations and HTML are left alone.

        Args:
            markdown: The essay body.
            link: Returns the relative link to an entry's page from the essay.
            citations: The text's citations as the model parsed them: nothing inside one is linked, and the
                result says where each now is (`Linked.moved`), so the text is never parsed again.

        Returns:
            The text with at most one link per entry, and where the text after each link moved.
        """
        pattern = self.pattern
        if pattern is None:
            return Linked(text=markdown)
        spans = [(c.start, c.end) for c in citations]
        done: set[str] = set()
        out: list[str] = []
        edits: list[tuple[int, int]] = []
        fenced = False
        offset = 0
        for line in markdown.split("\n"):
            stripped = line.lstrip()
            if stripped.startswith(("```", "~~~")):
                fenced = not fenced
            if (
                fenced
                or stripped.startswith(("#", "```", "~~~", "<", "    ", "|"))
                or line.startswith("    ")
            ):
                out.append(line)
            else:
                out.append(self._link_line(line, offset, _Linking(pattern, done, link, spans, edits)))
            offset += len(line) + 1
        return Linked(text="\n".join(out), edits=tuple(edits))

    def _link_line(self, line: str, offset: int, linking: _Linking) -> str:
        pieces: list[str] = []
        last = 0
        for protected in _PROTECTED.finditer(line):
            pieces.append(self._link_span(line[last : protected.start()], offset + last, linking))
            pieces.append(protected.group(0))
            last = protected.end()
        pieces.append(self._link_span(line[last:], offset + last, linking))
        return "".join(pieces)

    def _link_span(self, text: str, offset: int, linking: _Linking) -> str:
        def replace(match: re.Match[str]) -> str:
            entry = self._by_form[match.group(1).lower()]
            start, end = offset + match.start(), offset + match.end()
            if entry.url in linking.done or any(a < end and start < b for a, b in linking.citations):
                return match.group(0)
            linking.done.add(entry.url)
            title = entry.definition.translate(_TITLE_ESCAPES)
            linked = f'[{match.group(0)}]({linking.link(entry)} "{title}"){{ .glossary-link }}'
            linking.edits.append((end, len(linked) - len(match.group(0))))
            return linked

        return linking.pattern.sub(replace, text)


@dataclass(frozen=True)
class _Linking:
    """What linking one text carries from line to line."""

    pattern: re.Pattern[str]
    done: set[str]
    link: Callable[[Entry], str]
    citations: list[tuple[int, int]]
    edits: list[tuple[int, int]]


@dataclass(frozen=True, kw_only=True)
class Linked:
    """A text with its glossary links, and where the text after each link moved.

    Attributes:
        text: The linked text.
        edits: For each link, the offset in the original text where the link's mention ended and how many
            characters the link added there.
    """

    text: str
    edits: tuple[tuple[int, int], ...] = ()

    def moved(self, position: int) -> int:
        """Return where a position of the original text (not inside a linked mention) is in the linked text."""
        return position + sum(added for at, added in self.edits if at <= position)

    def citations(self, citations: Iterable[Citation]) -> tuple[Citation, ...]:
        """Return the original text's citations with their offsets in the linked text."""
        if not self.edits:
            return tuple(citations)
        moved = []
        for c in citations:
            start = self.moved(c.start)
            column = start - self.text.rfind("\n", 0, start)  # a link never adds a line
            moved.append(replace(c, start=start, end=self.moved(c.end), column=column))
        return tuple(moved)
