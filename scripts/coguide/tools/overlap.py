"""Overlap: find prose in the essays and records that repeats a source's wording word for word.

The guide is written in its own words; a source's exact words appear only as short quotations. This
check makes that promise testable. Give it the source texts you worked from (plain text or Markdown
files, or folders of them) and it reports every line of an essay or a record cell that shares a run
of ``--words`` consecutive words (8 by default) with one of them.

Words are compared lower-cased, with hyphens and punctuation ignored, so curly quotes or a word
hyphenated across a line break in a PDF extract do not hide a copy. Text inside quotation marks,
citations (``[@key, p. 3]``), link targets and code are skipped: a marked quotation is allowed.
Only the Markdown text cells (the fields `datapackage.json` marks as Markdown) are compared, so ids, names and titles,
which are meant to match the sources that cite them, are not.

The sources are not part of the project, so ``coguide check`` cannot run this; contributors run
``coguide overlap SOURCE ...`` before opening a pull request, and reviewers run it on what the
pull request cites.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from coguide.errors import Problem, errors_only
from coguide.markup import code_spans
from coguide.source.load import Sources, load_project
from coguide.source.validate import text_cells

DEFAULT_WORDS = 8
MIN_WORDS = 4
SOURCE_SUFFIXES = (".txt", ".md", ".markdown", ".text")

_WORD = re.compile(r"[0-9a-z]+(?:'[a-z]+)?")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# Spans that are allowed to repeat a source: quotations, citations, link targets, HTML comments (and code,
# which `coguide.markup.code_spans` finds).
_SKIPPED = re.compile(
    r"\"[^\"\n]*\"|\u201c[^\u201d]*\u201d|(?<![0-9A-Za-z])'[^'\n]+'(?![0-9A-Za-z])|\u2018[^\u2019]*\u2019(?![A-Za-z])"
    r"|\[[^\]]*@[^\]]*\]|\]\([^)]*\)|<!--.*?-->",
    re.DOTALL,
)


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A piece of the guide's own prose, with where a contributor finds it."""

    path: str
    line: int
    text: str
    field: str = ""


@dataclass(frozen=True, kw_only=True)
class Source:
    """A source text the guide was written from, as the word sequence it is compared by."""

    name: str
    words: tuple[str, ...]


def words_of(text: str) -> list[str]:
    """Return the comparable words of a text: lower-cased, apostrophes unified, hyphens and punctuation dropped.

    Args:
        text: Any prose.

    Returns:
        The words in order.
    """
    return _WORD.findall(text.lower().translate(_APOSTROPHES).replace("-", " "))


def _break(skipped: str) -> str:
    # Keep the line breaks so that line numbers after a skipped span stay right.
    return "\n" * skipped.count("\n") + " | "


def _blank(match: re.Match[str]) -> str:
    return _break(match.group(0))


def own_words(text: str) -> str:
    """Return the text with quotations, citations, code and link targets replaced by breaks.

    A break (``|``) stops a run, so a quotation can never join the words before and after it into one. Code
    (code blocks and code spans) is found by the same markdown-it scanner that keeps citations out of code.
    """
    pieces: list[str] = []
    position = 0
    for start, end in code_spans(text):
        pieces += [text[position:start], _break(text[start:end])]
        position = end
    pieces.append(text[position:])
    return _SKIPPED.sub(_blank, "".join(pieces))


def read_sources(paths: Iterable[Path]) -> list[Source]:
    """Read source texts from files, or from the text files inside folders (recursively).

    Args:
        paths: Files or folders.

    Returns:
        One `Source` per readable file, in path order.

    Raises:
        FileNotFoundError: If a path does not exist, or a folder holds no text files.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES)
            if not inside:
                raise FileNotFoundError(f"{path} holds no {', '.join(SOURCE_SUFFIXES)} files")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path} does not exist")
    return [
        Source(name=p.name, words=tuple(words_of(p.read_text(encoding="utf-8", errors="replace"))))
        for p in found
    ]


def passages(sources: Sources) -> Iterator[Passage]:
    """Yield the guide's prose line by line: hand-written pages, then the Markdown text cells of the tables.

    Lines are the lines a contributor sees in an editor, so a multi-line CSV cell yields one passage per line.
    """
    for doc in sources.documents:
        for offset, line in enumerate(own_words(doc.body).split("\n")):
            if line.strip() and not line.lstrip().startswith("#"):
                yield Passage(path=doc.path, line=doc.body_line + offset, text=line)
    for table, field, line, value in text_cells(sources):
        for offset, part in enumerate(own_words(value).split("\n")):
            if part.strip():
                yield Passage(path=table.path, line=line + offset, text=part, field=field)


@dataclass(frozen=True, kw_only=True)
class Match:
    """A run of words a passage shares with a source."""

    passage: Passage
    source: str
    words: tuple[str, ...]


class Index:
    """Every run of ``n`` consecutive words in the sources, for constant-time lookups."""

    def __init__(self, sources: Sequence[Source], n: int) -> None:
        """Index the sources.

        Args:
            sources: The source texts.
            n: Run length; at least `MIN_WORDS`.

        Raises:
            ValueError: If `n` is below `MIN_WORDS` (shorter runs are everyday phrases).
        """
        if n < MIN_WORDS:
            raise ValueError(f"--words must be at least {MIN_WORDS}; shorter runs are everyday phrases")
        self.n = n
        self._where: dict[tuple[str, ...], str] = {}
        for source in sources:
            for i in range(len(source.words) - n + 1):
                self._where.setdefault(source.words[i : i + n], source.name)

    def longest(self, passage: Passage) -> Match | None:
        """Return the longest run the passage shares with a source, or None.

        Runs never cross a skipped span: each piece between breaks is compared on its own.
        """
        best: Match | None = None
        for piece in passage.text.split(" | "):
            words = words_of(piece)
            i = 0
            while i <= len(words) - self.n:
                source = self._where.get(tuple(words[i : i + self.n]))
                if source is None:
                    i += 1
                    continue
                end = i + self.n
                while end < len(words) and tuple(words[end - self.n + 1 : end + 1]) in self._where:
                    end += 1
                if best is None or end - i > len(best.words):
                    best = Match(passage=passage, source=source, words=tuple(words[i:end]))
                i = end
        return best


def find_overlaps(sources: Sources, texts: Sequence[Source], n: int = DEFAULT_WORDS) -> list[Problem]:
    """Report every line of the guide's prose that shares `n` or more consecutive words with a source.

    Args:
        sources: The loaded project.
        texts: The source texts to compare with.
        n: The shortest run reported.

    Returns:
        One ``copied-wording`` problem per line (naming its longest run), in file and line order.
    """
    index = Index(texts, n)
    problems = []
    for passage in passages(sources):
        match = index.longest(passage)
        if match is None:
            continue
        run = " ".join(match.words)
        problems.append(
            Problem(
                path=passage.path,
                line=passage.line,
                code="copied-wording",
                field=passage.field,
                message=(f"{passage.field}: " if passage.field else "")
                + f'{len(match.words)} words in a row are the same as in {match.source}: "{run}"',
                hint="say it in your own words, or quote it: under 25 words, in quotation marks, "
                "with its citation and page",
            )
        )
    return sorted(problems, key=lambda p: p.sort_key)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``overlap`` command's arguments."""
    parser.add_argument(
        "sources", nargs="+", type=Path, help="source texts (.txt or .md files, or folders of them)"
    )
    parser.add_argument(
        "--words",
        type=int,
        default=DEFAULT_WORDS,
        help=f"report runs of at least this many shared words (default {DEFAULT_WORDS}, minimum {MIN_WORDS})",
    )


def run(args: argparse.Namespace) -> int:
    """Compare the project's prose with the sources; exit 1 if any line repeats one word for word."""
    if args.words < MIN_WORDS:
        print(
            f"coguide overlap: --words must be at least {MIN_WORDS}; shorter runs are everyday phrases",
            file=sys.stderr,
        )
        return 2
    try:
        texts = read_sources(args.sources)
    except FileNotFoundError as exc:
        print(f"coguide overlap: {exc}", file=sys.stderr)
        return 2
    project = load_project(Path(args.project).resolve())
    unreadable = errors_only(list(project.problems))
    if unreadable:
        # Comparing only what could be read would pass over the rest in silence.
        for problem in unreadable:
            print(problem.format(), file=sys.stderr)
        print(
            "coguide overlap: some files cannot be read; fix them (see coguide check) and run again",
            file=sys.stderr,
        )
        return 2
    problems = find_overlaps(project, texts, args.words)
    for problem in problems:
        print(problem.format())
    words = sum(len(t.words) for t in texts)
    print(
        f"{len(problems)} line(s) share {args.words} or more words in a row with "
        f"{len(texts)} source(s) ({words:,} words)",
        file=sys.stderr,
    )
    return 1 if problems else 0
