"""Cite stage: the APA 7 reference style, as a pybtex formatting-style plugin.

`APAStyle` is registered as the pybtex formatting style ``apa7`` (see ``pyproject.toml``),
so ``pybtex --style apa7`` and `coguide.cite` format references the same way.
It follows pybtex's own design: one template per kind of work, built from the nodes of
`pybtex.style.template` plus a few APA nodes defined here, producing `pybtex.richtext`
that any pybtex backend can render.

The APA rules that in-text citations share with the reference list (who goes in the author
position, year labels with a/b suffixes, reference-list order) live here too, computed once
per entry by `describe_entry`, so a citation and its reference can never disagree.

Titles and book titles are put in APA sentence case (`sentence_case`), as BibTeX styles do:
write them in title case or sentence case, and brace proper nouns (``{Welsh}``, ``{Lord Laming}``).
Words with two or more capitals (``NHS``, ``KeyRing``) are kept as written. Journal names, the
names of Acts and in-text titles keep their capitals.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.database import Entry, Person
from pybtex.exceptions import PybtexError
from pybtex.markup import LaTeXParser
from pybtex.richtext import BaseMultipartText, BaseText, HRef, Protected, String, Tag, Text
from pybtex.style import FormattedEntry
from pybtex.style.formatting import BaseStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.labels.number import LabelStyle as NumberLabelStyle
from pybtex.style.names.plain import NameStyle as PlainNameStyle
from pybtex.style.sorting import BaseSortingStyle
from pybtex.style.sorting.none import SortingStyle as NoSortingStyle
from pybtex.style.template import FieldIsMissing, join, node, optional
from pybtex.textutils import abbreviate

__all__ = [
    "APALabelStyle",
    "APASortingStyle",
    "APAStyle",
    "DateStatus",
    "EntryFacts",
    "EntryKind",
    "Name",
    "Role",
    "describe_entry",
    "intext_author",
    "intext_narrative",
    "intext_parenthetical",
    "latex_to_text",
    "needs_author",
    "sort_text",
    "year_labels",
]

EntryKind = Literal[
    "article", "book", "chapter", "report", "thesis", "webpage", "blog", "legislation", "unpublished", "misc"
]
"""The APA reference patterns this style knows; every BibTeX/BibLaTeX type maps to one."""

Role = Literal["author", "editor", "group", "title"]
"""What stands in the author position: people, editors of a whole work, a group, or the title."""

DateStatus = Literal["year", "nd", "press", "missing"]
"""How the date is known: a year, ``n.d.`` on purpose, ``in press``, or not given at all."""

_KIND_BY_TYPE: dict[str, EntryKind] = {
    "article": "article",
    "book": "book",
    "mvbook": "book",
    "collection": "book",
    "mvcollection": "book",
    "proceedings": "book",
    "mvproceedings": "book",
    "booklet": "book",
    "manual": "book",
    "reference": "book",
    "mvreference": "book",
    "incollection": "chapter",
    "inproceedings": "chapter",
    "conference": "chapter",
    "inreference": "chapter",
    "suppbook": "chapter",
    "suppcollection": "chapter",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "online": "webpage",
    "www": "webpage",
    "webpage": "webpage",
    "electronic": "webpage",
    "legislation": "legislation",
    "legal": "legislation",
    "law": "legislation",
    "statute": "legislation",
    "unpublished": "unpublished",
}

# Works that stand alone are italicised; parts of a whole (an article, a chapter, a post) are not.
_PART_OF_WHOLE: frozenset[EntryKind] = frozenset({"article", "chapter", "blog"})
_FULL_DATE_KINDS: frozenset[EntryKind] = frozenset({"webpage", "blog", "misc"})
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MAX_LISTED_AUTHORS = 20
_SHORT_TITLE_WORDS = 4


# --------------------------------------------------------------------------- LaTeX -> rich text

_COMMAND_BEFORE_GROUP = re.compile(r"\\([A-Za-z]+)\s*$")
_COMMAND_OPENING_GROUP = re.compile(r"^\\(em|it|itshape|sl|bf|bfseries|sc|scshape|rm|normalfont)\b\s*")
_ITALIC_COMMANDS = frozenset({"emph", "textit", "textsl", "mkbibemph", "em", "it", "itshape", "sl"})
_ESCAPED_CHARACTER = re.compile(r"\\([$&%#_{}])")
_URL_COMMAND = re.compile(r"^\\url\s*\{(.*)\}$", re.DOTALL)
# Anything that needs more than plain text: commands, braces, ties, math, ligatures.
_LATEX_MARKUP = re.compile(r"[\\{}~$]|--|``|''|[?!]`")
_LIGATURES = (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"), ("?`", "¿"), ("!`", "¡"), ("~", "\u00a0"))


@functools.lru_cache(maxsize=8192)
def latex_to_text(value: str) -> Text:
    r"""Decode a BibTeX field value into rich text.

    pybtex (with latexcodec) decodes accents and dashes; here ``\emph{}`` and friends become
    italics, font commands are dropped, and protective braces disappear, since this style never
    changes capitalisation and braces have nothing left to protect. Results are cached:
    pybtex rich text is never changed in place.
    """
    if not _LATEX_MARKUP.search(value):
        return Text(_quotes(value))
    try:
        parsed = LaTeXParser(_quotes(_decode(value))).parse()
    except PybtexError:
        # Unbalanced braces: show the words rather than lose the entry.
        return Text(value.replace("{", "").replace("}", ""))
    return Text(*_simplify_parts(parsed.parts))


@functools.lru_cache(maxsize=8192)
def _decode(value: str) -> str:
    """Decode LaTeX accents and ligatures (what ``Text.from_latex`` does before parsing braces)."""
    if "\\" in value:
        return codecs.decode(value, "ulatex")
    # latexcodec is slow and most values only need the ligatures: do those by hand.
    for latex, character in _LIGATURES:
        value = value.replace(latex, character)
    return value


def _quotes(value: str) -> str:
    # LaTeX typesets ` and ' as single quotation marks; latexcodec only decodes the doubled forms.
    return re.sub(r"(?<![`'])`(?!`)", "‘", re.sub(r"(?<![`'])'(?!')", "’", value))


def _simplify_parts(parts: Sequence[BaseText]) -> list[BaseText]:
    result: list[BaseText] = []
    pending_command: str | None = None
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else None
        if isinstance(part, String):
            value = part.value
            match = _COMMAND_BEFORE_GROUP.search(value)
            if match and isinstance(following, Protected):
                value = value[: match.start()]
                pending_command = match.group(1)
            value = _ESCAPED_CHARACTER.sub(r"\1", value)
            if value:
                result.append(String(value))
        elif isinstance(part, BaseMultipartText) and not isinstance(part, (Tag, HRef)):
            inner = list(part.parts)
            italic = pending_command in _ITALIC_COMMANDS
            if inner and isinstance(inner[0], String):
                opening = _COMMAND_OPENING_GROUP.match(inner[0].value)
                if opening:
                    italic = italic or opening.group(1) in _ITALIC_COMMANDS
                    inner[0] = String(inner[0].value[opening.end() :])
            simplified = _simplify_parts(inner)
            if italic:
                result.append(Tag("em", *simplified))
            else:
                result.extend(simplified)
            pending_command = None
        else:
            result.append(part)
    return result


@functools.lru_cache(maxsize=8192)
def _plain(value: str) -> str:
    if not _LATEX_MARKUP.search(value):
        return _quotes(value)
    return str(latex_to_text(value))


@functools.lru_cache(maxsize=8192)
def sort_text(value: str) -> str:
    """Return the letter-by-letter sort form of a name or title.

    Diacritics and case are ignored and letters without a decomposition are folded by hand
    (Øvretveit sorts as Ovretveit); spaces and punctuation are skipped, so "nothing precedes
    something" falls out of plain string comparison.
    """
    folded = unicodedata.normalize("NFKD", value.translate(_FOLD)).casefold()
    return "".join(character for character in folded if character.isalnum())


_FOLD = str.maketrans(
    {
        "Ø": "O",
        "ø": "o",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "ß": "ss",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Þ": "Th",
        "þ": "th",
        "ı": "i",
    }
)
_LEADING_ARTICLE = re.compile(r"^[\W_]*(?:the|an|a)\s+", re.IGNORECASE)


def _without_article(value: str) -> str:
    return _LEADING_ARTICLE.sub("", value, count=1)


# --------------------------------------------------------------------------- names


@dataclass(frozen=True, kw_only=True)
class Name:
    """One name in APA form, decoded from LaTeX.

    Attributes:
        family: The surname with any particle ("van Gogh"), or a group's whole name.
        initials: "J.-P. É." (empty for a group or a single-word name).
        suffix: "Jr.", "III".
        group: True for a group author ("{New Economics Foundation}") or a one-word name.
    """

    family: str
    initials: str = ""
    suffix: str = ""
    group: bool = False

    @property
    def inverted(self) -> str:
        """Reference-list form: "Needham, C.", "King, M. L., Jr."."""
        parts = [self.family, self.initials, self.suffix]
        return ", ".join(part for part in parts if part)

    @property
    def direct(self) -> str:
        """Editor form after "In": "M. Barnes"."""
        head = f"{self.initials} {self.family}" if self.initials else self.family
        return f"{head}, {self.suffix}" if self.suffix else head

    @property
    def sort_key(self) -> tuple[str, ...]:
        """Surname then initials; a group by its first significant word."""
        if self.group:
            return (sort_text(_without_article(self.family)),)
        return (sort_text(self.family), sort_text(self.initials))


_INITIAL_TOKEN = re.compile(r"-|[^\W\d_][^\s.\-]*")


@functools.lru_cache(maxsize=8192)
def initials(given: str) -> str:
    """Return APA initials of given names: "Jean-Pierre" -> "J.-P.", "Mary Ann" -> "M. A.", "J.P." -> "J. P.".

    Names made only of letters, with hyphens between them, are abbreviated by pybtex
    (`pybtex.textutils.abbreviate`, what its name styles use), whose result is APA's. Anything else is the
    documented exception, read letter-run by letter-run, because pybtex leaves a part that is not purely
    alphabetic as it is where APA wants one initial for each name: "J.P." and "Ch." (pybtex keeps both;
    APA gives "J. P." and "C."), "O'Neil" (kept; APA "O."), a stray hyphen ("- Pierre" -> "P.").
    """
    words = given.split()
    if all(part.isalpha() for word in words for part in word.split("-")):
        return abbreviate(" ".join(words))
    found: list[str] = []
    hyphen = False
    for token in _INITIAL_TOKEN.findall(given):
        if token == "-":
            hyphen = bool(found)
            continue
        initial = f"{token[0]}."
        if hyphen:
            found[-1] = f"{found[-1]}-{initial}"
        else:
            found.append(initial)
        hyphen = False
    return " ".join(found)


def _name_of(person: Person) -> Name:
    given = " ".join(_plain(part) for part in [*person.first_names, *person.middle_names])
    family = " ".join(_plain(part) for part in [*person.prelast_names, *person.last_names])
    suffix = " ".join(_plain(part) for part in person.lineage_names)
    if not given and not suffix and not person.prelast_names:
        return Name(family=family, group=True)
    return Name(family=family, initials=initials(given), suffix=suffix)


def _is_others(person: Person) -> bool:
    # BibTeX's "and others" becomes a person whose only name is "others".
    return not person.first_names and [name.lower() for name in person.last_names] == ["others"]


# --------------------------------------------------------------------------- facts per entry


@dataclass(frozen=True, kw_only=True)
class EntryFacts:
    """What APA needs to know about one entry, decided once.

    Attributes:
        key: The citation key.
        kind: Which APA reference pattern applies.
        role: What stands in the author position.
        names: The people (or the group) in the author position; empty when the title moves there.
        et_al: The author list ended with "and others".
        title_plain: Title (and subtitle) as plain text.
        short_title: BibLaTeX ``shorttitle``, for in-text citations of works without an author.
        status: How the date is known.
        year: "2008" when ``status == "year"``.
        month: 1-12 or None.
        day: Day of the month or None.
        original_year: When a republished or translated work first appeared (``origyear``), else None.
        identity: Equal for works whose author lists are identical (None when the title is the author).
        sort_key: Reference-list order.
    """

    key: str
    kind: EntryKind
    role: Role
    names: tuple[Name, ...]
    et_al: bool
    title_plain: str
    short_title: str | None
    status: DateStatus
    year: str | None
    month: int | None
    day: int | None
    identity: tuple[Any, ...] | None
    sort_key: tuple[Any, ...]
    original_year: str | None = None

    @property
    def group_name(self) -> str | None:
        """The group author's name, for omitting a publisher that repeats it."""
        if self.role == "group" and self.names:
            return self.names[0].family
        return None


def _field(entry: Entry, name: str) -> str | None:
    value = entry.fields.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _kind_of(entry: Entry) -> EntryKind:
    subtype = " ".join(filter(None, (_field(entry, "type"), _field(entry, "entrysubtype")))).lower()
    if "legislation" in subtype or entry.type in ("legislation", "legal", "law", "statute"):
        return "legislation"
    kind = _KIND_BY_TYPE.get(entry.type, "misc")
    if entry.type == "inbook" and _field(entry, "booktitle"):
        kind = "chapter"
    elif entry.type == "inbook":
        kind = "book"
    if kind == "misc" and _field(entry, "url") and (_field(entry, "month") or _iso_month(entry)):
        kind = "webpage"
    if kind == "webpage" and _is_blog(entry, subtype):
        kind = "blog"
    return kind


def _is_blog(entry: Entry, subtype: str) -> bool:
    keywords = {word.strip().lower() for word in (_field(entry, "keywords") or "").split(",")}
    return "blog" in subtype.split() or "blog" in keywords


_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[~?%]|/.*)?$")
_YEAR = re.compile(r"^\d{4}")
_NO_DATE = frozenset({"n.d.", "n.d", "nd", "no date", "undated"})
_IN_PRESS = frozenset({"in press", "forthcoming"})


def _iso_month(entry: Entry) -> int | None:
    match = _ISO_DATE.match(_field(entry, "date") or "")
    return int(match.group(2)) if match and match.group(2) else None


def _month_number(value: str | None) -> int | None:
    if not value:
        return None
    value = _plain(value).strip().rstrip(".")
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    for number, month in enumerate(_MONTHS, start=1):
        if len(value) >= 3 and month.lower().startswith(value.lower()):
            return number
    return None


def _dates(entry: Entry) -> tuple[DateStatus, str | None, int | None, int | None]:
    year_field = _field(entry, "year")
    month = _month_number(_field(entry, "month"))
    day_field = _field(entry, "day")
    day = int(day_field) if day_field and day_field.isdigit() else None
    if year_field:
        year = _plain(year_field).strip()
        if year.lower() in _NO_DATE:
            return "nd", None, None, None
        if year.lower() in _IN_PRESS:
            return "press", None, None, None
        # BibLaTeX entries often carry both: the year for BibTeX tools, the full date for web pages.
        match = _ISO_DATE.match(_field(entry, "date") or "")
        if match and match.group(1) == year and month is None:
            month = int(match.group(2)) if match.group(2) else None
            day = int(match.group(3)) if match.group(3) else day
        return "year", year, month, day
    match = _ISO_DATE.match(_field(entry, "date") or "")
    if match:
        month = int(match.group(2)) if match.group(2) else month
        day = int(match.group(3)) if match.group(3) else day
        return "year", match.group(1), month, day
    return "missing", None, None, None


def needs_author(entry: Entry) -> bool:
    """Tell whether an entry must name an author, editor or group.

    Legislation never has one, and an entry may say it has none on purpose with BibLaTeX's
    ``options = {useauthor=false}``; APA then moves the title to the author position.
    """
    options = (_field(entry, "options") or "").replace(" ", "").lower()
    return _kind_of(entry) != "legislation" and "useauthor=false" not in options.split(",")


def _creator(entry: Entry, kind: EntryKind) -> tuple[Role, tuple[Name, ...], bool]:
    if not needs_author(entry):
        return "title", (), False
    for role in ("author", "editor"):
        if role == "editor" and kind in _PART_OF_WHOLE:
            # A chapter's editors edit the book; they never stand in the author position.
            break
        persons = list(entry.persons.get(role, ()))
        et_al = bool(persons) and _is_others(persons[-1])
        persons = [person for person in persons if not _is_others(person)]
        if persons:
            names = tuple(_name_of(person) for person in persons)
            if role == "author" and len(names) == 1 and names[0].group:
                return "group", names, et_al
            return role, names, et_al
    for field_name in ("organization", "institution"):
        value = _field(entry, field_name)
        if value:
            return "group", (Name(family=_plain(value), group=True),), False
    return "title", (), False


_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_BREAK = frozenset(":?!")


def sentence_case(value: str) -> str:
    r"""Return a BibTeX title in APA sentence case, leaving braced text and acronyms alone.

    The first word and the first word after a colon, question mark or exclamation mark keep a
    capital; every other word outside braces is lowercased unless it has two or more capitals
    ("NHS", "KeyRing", "UK"). LaTeX commands (``\\ldots``) pass through.

    >>> sentence_case("Power: A Radical View of {Lukes}'s {NHS} and UK")
    "Power: A radical view of {Lukes}'s {NHS} and UK"
    """
    out: list[str] = []
    depth = 0
    capital = True
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            command = re.match(r"\\(?:[A-Za-z]+|.)", value[index:])
            token = command.group() if command else char
            out.append(token)
            index += len(token)
            continue
        if char == "{":
            depth += 1
            capital = capital and depth > 1  # a braced word at a sentence start counts as capitalised
        elif char == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            word = (
                _WORD.match(value, index) if char.isalpha() and not (out and out[-1][-1:].isalnum()) else None
            )
            if word:
                out.append(_sentence_case_word(word.group(), capital))
                index = word.end()
                capital = False
                continue
            if char.isalnum():
                capital = False
            elif char in _SENTENCE_BREAK:
                capital = True
        out.append(char)
        index += 1
    return "".join(out)


def _sentence_case_word(word: str, capital: bool) -> str:
    """Lowercase each part of a (hyphenated) word unless it has two capitals; capitalise the first if asked."""
    parts = word.split("-")
    cased = [part if sum(c.isupper() for c in part) >= 2 else part.lower() for part in parts]
    if capital and cased[0]:
        cased[0] = cased[0][0].upper() + cased[0][1:]
    return "-".join(cased)


def _title(entry: Entry, *, sentence: bool = True) -> Text:
    """Return title and subtitle as rich text, in sentence case unless told not to ("Power: A radical view")."""
    cased = sentence_case if sentence else str
    title = latex_to_text(cased(_field(entry, "title") or ""))
    subtitle = _field(entry, "subtitle")
    if subtitle:
        title = Text(title, _subtitle_separator(str(title)), latex_to_text(cased(subtitle)))
    return title


def _title_plain(entry: Entry) -> str:
    title = _plain(_field(entry, "title") or "")
    subtitle = _field(entry, "subtitle")
    return f"{title}{_subtitle_separator(title)}{_plain(subtitle)}" if subtitle else title


def _subtitle_separator(title: str) -> str:
    return " " if title.rstrip().endswith(("?", "!", ":")) else ": "


def describe_entry(entry: Entry) -> EntryFacts:
    """Decide what APA needs to know about one entry (kind, creator, date, sort key)."""
    kind = _kind_of(entry)
    role, names, et_al = _creator(entry, kind)
    title_plain = _title_plain(entry)
    status, year, month, day = _dates(entry)
    title_key = sort_text(_without_article(title_plain))
    if role == "title":
        creator_key: tuple[Any, ...] = ((title_key,),)
        identity = None
    else:
        creator_key = tuple(name.sort_key for name in names) + ((("\uffff",),) if et_al else ())
        identity = creator_key
    return EntryFacts(
        key=entry.key or "",
        kind=kind,
        role=role,
        names=names,
        et_al=et_al,
        title_plain=title_plain,
        short_title=_plain(_field(entry, "shorttitle") or "") or None,
        status=status,
        year=year,
        month=month,
        day=day,
        identity=identity,
        sort_key=(creator_key, _date_sort_key(status, year), title_key, entry.key or ""),
        original_year=_original_year(entry, year),
    )


def _original_year(entry: Entry, year: str | None) -> str | None:
    """Return ``origyear`` (or the year of BibLaTeX's ``origdate``) when it differs from the year cited."""
    value = _plain(_field(entry, "origyear") or "").strip()
    if not value:
        match = _ISO_DATE.match(_field(entry, "origdate") or "")
        value = match.group(1) if match else ""
    return value if value and value != year else None


def _intext_date(facts: EntryFacts, label: str) -> str:
    """APA shows both dates of a republished work in text: "1984/1986"."""
    return f"{facts.original_year}/{label}" if facts.original_year else label


def _date_sort_key(status: DateStatus, year: str | None) -> tuple[int, int, str]:
    # APA: undated works first, then by year, then "in press" last.
    if status == "year" and year:
        match = _YEAR.match(year)
        return (1, int(match.group()) if match else 0, year)
    if status == "press":
        return (2, 0, "")
    return (0, 0, "")


# --------------------------------------------------------------------------- year labels and order


def _date_base(facts: EntryFacts) -> str:
    if facts.status == "year" and facts.year:
        return facts.year
    if facts.status == "press":
        return "in press"
    return "n.d."


def _suffix_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def year_labels(sorted_facts: Sequence[EntryFacts]) -> list[str]:
    """Return the year label of each entry, in the order given (which must be reference-list order).

    Works with identical author lists and the same year get a, b, c... in title order
    (the reference-list order already puts them so): "2017a", "n.d.-a", "in press-b".
    """
    bases = [_date_base(facts) for facts in sorted_facts]
    labels = list(bases)
    start = 0
    while start < len(sorted_facts):
        end = start + 1
        identity = sorted_facts[start].identity
        while (
            identity is not None
            and end < len(sorted_facts)
            and sorted_facts[end].identity == identity
            and bases[end] == bases[start]
        ):
            end += 1
        if end - start > 1:
            for offset in range(end - start):
                joiner = "" if bases[start][-1].isdigit() else "-"
                labels[start + offset] = f"{bases[start]}{joiner}{_suffix_letters(offset)}"
        start = end
    return labels


class APASortingStyle(BaseSortingStyle):
    """pybtex sorting style: APA reference-list order."""

    def __init__(self, facts: Callable[[Entry], EntryFacts] | None = None) -> None:
        self._facts = facts or describe_entry

    def sorting_key(self, entry: Entry) -> tuple[Any, ...]:
        """Sort by author list, then date (n.d. first), then title without its leading article."""
        return self._facts(entry).sort_key


class APALabelStyle(BaseLabelStyle):
    """pybtex label style: the APA year label ("2008", "2017a", "n.d.") of each entry."""

    def __init__(self, facts: Callable[[Entry], EntryFacts] | None = None) -> None:
        self._facts = facts or describe_entry

    def format_labels(self, sorted_entries: Iterable[Entry]) -> Iterator[str]:
        """Yield one label per entry; the entries must already be in APA order."""
        yield from year_labels([self._facts(entry) for entry in sorted_entries])


# --------------------------------------------------------------------------- in-text author-date


_FUNCTION_WORDS = frozenset(
    ["a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"]
)


def _short_title(facts: EntryFacts) -> str:
    """Return the first few words of the title for an in-text citation (or BibLaTeX ``shorttitle``)."""
    if facts.short_title:
        return facts.short_title
    main = re.split(r":\s|(?<=[?!])\s", facts.title_plain, maxsplit=1)[0].strip()
    words = main.split()
    if len(words) <= _SHORT_TITLE_WORDS:
        return main
    words = words[:_SHORT_TITLE_WORDS]
    while len(words) > 1 and words[-1].lower().strip(",;") in _FUNCTION_WORDS:
        words.pop()
    return " ".join(words).rstrip(",;")


def intext_author(facts: EntryFacts, *, narrative: bool = False) -> Text:
    """Return the author part of an in-text citation.

    One author: "Needham"; two: "Brudney & England" (narrative "Brudney and England");
    three or more: "Pykett et al."; a group in full; no author: the (short) title, italic for
    a work that stands alone and in quotation marks for a part of a whole; legislation: its title.
    """
    if facts.kind == "legislation":
        return Text(facts.title_plain)
    if facts.role == "title":
        short = _short_title(facts)
        if facts.kind in _PART_OF_WHOLE:
            return Text(f"“{short}”")
        return Text(Tag("em", short))
    families = [name.family for name in facts.names]
    if len(families) >= 3 or (facts.et_al and families):
        return Text(f"{families[0]} et al.")
    if len(families) == 2:
        return Text(families[0], " and " if narrative else " & ", families[1])
    return Text(families[0])


def intext_parenthetical(facts: EntryFacts, label: str, *, show_author: bool = True) -> Text:
    """Return "Needham, 2008" (or "“Title,” 2019", "Children Act 2004", or "2008" without the author)."""
    if facts.kind == "legislation":
        return Text(facts.title_plain)
    label = _intext_date(facts, label)
    if not show_author:
        return Text(label)
    if facts.role == "title" and facts.kind in _PART_OF_WHOLE:
        # APA is American: the comma goes inside the closing quotation mark.
        return Text(f"“{_short_title(facts)},” {label}")
    return Text(intext_author(facts), f", {label}")


def intext_narrative(facts: EntryFacts, label: str) -> tuple[Text, str]:
    """Return the two halves of a narrative citation: ("Needham", "2008"); legislation has no date."""
    if facts.kind == "legislation":
        return Text(facts.title_plain), ""
    return intext_author(facts, narrative=True), _intext_date(facts, label)


# --------------------------------------------------------------------------- template nodes


def _facts(context: dict[str, Any]) -> EntryFacts:
    return context["facts"]


@node
def latex_field(children: list[Any], context: dict[str, Any], name: str) -> Text:
    """Return a field decoded from LaTeX; raise FieldIsMissing when absent (for ``optional``)."""
    value = _field(context["entry"], name)
    if value is None:
        raise FieldIsMissing(name, context["entry"])
    return latex_to_text(value)


@node
def first_field(children: list[Any], context: dict[str, Any], *names: str) -> Text:
    """Return the first of several fields that is present (BibLaTeX and BibTeX spellings)."""
    for name in names:
        value = _field(context["entry"], name)
        if value is not None:
            return latex_to_text(value)
    raise FieldIsMissing(names[0], context["entry"])


def _dashed(text: Text) -> Text:
    return Text(re.sub(r"\s*[-–]+\s*", "–", str(text)))


@node
def pages(children: list[Any], context: dict[str, Any], label: bool = False) -> Text:
    """Return page numbers with an en dash; with ``label``, "p. 5" or "pp. 79–88"."""
    value = _field(context["entry"], "pages")
    if value is None:
        raise FieldIsMissing("pages", context["entry"])
    text = _dashed(latex_to_text(value))
    if not label:
        return text
    plural = any(mark in str(text) for mark in "–,&")
    return Text("pp. " if plural else "p. ", text)


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


_ORDINAL_WORDS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)


@node
def edition(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "2nd ed." from ``edition = {2}``, ``{2nd}`` or ``{second}``; "Rev. ed." for revised."""
    value = _field(context["entry"], "edition")
    if value is None:
        raise FieldIsMissing("edition", context["entry"])
    plain = _plain(value).strip().rstrip(".")
    lowered = plain.lower()
    number = re.fullmatch(r"(\d+)(?:st|nd|rd|th)?(?:\s+(?:ed|edn|edition))?", lowered)
    if number:
        return Text(f"{_ordinal(int(number.group(1)))} ed.")
    if lowered in _ORDINAL_WORDS:
        return Text(f"{_ordinal(_ORDINAL_WORDS.index(lowered) + 1)} ed.")
    if lowered.startswith("rev"):
        return Text("Rev. ed.")
    if lowered.endswith(("ed", "edition")):
        return Text(re.sub(r"\s*edition$", " ed.", plain, flags=re.IGNORECASE).rstrip(".") + ".")
    return Text(f"{plain} ed.")


@node
def volume(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "Vol. 2" for a volume of a book."""
    value = _field(context["entry"], "volume")
    if value is None:
        raise FieldIsMissing("volume", context["entry"])
    return Text("Vol. ", latex_to_text(value))


def _translators(entry: Entry) -> list[Person]:
    """Return the ``translator`` field's people (BibTeX keeps it as a plain string)."""
    value = _plain(_field(entry, "translator") or "").strip()
    return [Person(name) for name in re.split(r"\s+and\s+", value) if name and name != "others"]


def _roles_in_title(entry: Entry, facts: EntryFacts) -> list[Text]:
    """Return "J. Strachey, Ed." and "R. Hurley, Trans." (or "J. Strachey, Ed. & Trans.") for a book.

    Editors are listed here only when authors stand in the author position.
    """
    editors = (
        [p for p in entry.persons.get("editor", ()) if not _is_others(p)] if facts.role == "author" else []
    )
    translators = _translators(entry)
    groups: list[tuple[list[Person], str]] = []
    if editors and [str(p) for p in editors] == [str(p) for p in translators]:
        groups.append((editors, "Ed. & Trans." if len(editors) == 1 else "Eds. & Trans."))
    else:
        if editors:
            groups.append((editors, "Ed." if len(editors) == 1 else "Eds."))
        if translators:
            groups.append((translators, "Trans."))
    parts = []
    for people, role in groups:
        names = [_name_of(person).direct for person in people]
        parts.append(Text(join(sep=", ", sep2=" & ", last_sep=", & ")[names].format(), f", {role}"))
    return parts


@node
def roles_in_title(children: list[Any], context: dict[str, Any]) -> Text:
    """Return the editors and translators that APA puts after a book's title, joined by "; "."""
    parts = _roles_in_title(context["entry"], _facts(context))
    if not parts:
        raise FieldIsMissing("translator", context["entry"])
    return Text("; ").join(parts)


def _unitalicised(text: BaseText) -> list[BaseText]:
    """Drop italics inside a title that will be italicised as a whole (APA reverse italics)."""
    if isinstance(text, Tag) and text.name == "em":
        return [part for child in text.parts for part in _unitalicised(child)]
    if isinstance(text, Text):
        return [part for child in text.parts for part in _unitalicised(child)]
    return [text]


@node
def title(
    children: list[Any], context: dict[str, Any], italic: bool = False, description: Any = None
) -> Text:
    """Return the title, then any "(details)" (children) and "[description]"."""
    rich = _title(context["entry"])
    text: BaseText = Tag("em", *_unitalicised(rich)) if italic else rich
    parts: list[Any] = [text]
    details = join(sep=", ")[children].format_data(context)
    if details:
        parts += [" (", details, ")"]
    if description is not None:
        described = description.format_data(context) if hasattr(description, "format_data") else description
        if described:
            parts += [" [", described, "]"]
    return Text(*parts)


def _same_as_author(facts: EntryFacts, value: Text) -> bool:
    group = facts.group_name
    return group is not None and sort_text(group) == sort_text(str(value))


@node
def source(children: list[Any], context: dict[str, Any], *names: str, italic: bool = False) -> Text:
    """Return the first present of ``names`` (a publisher, a site), or nothing when it repeats the author."""
    facts = _facts(context)
    for name in names:
        value = _field(context["entry"], name)
        if value is None or (name == "howpublished" and re.match(r"\\url|https?:", value)):
            continue
        text = latex_to_text(value)
        if _same_as_author(facts, text):
            return Text()
        return Text(Tag("em", text)) if italic else text
    return Text()


@node
def journal(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "*Journal*, *39*(6), 1101–1117" (or "Article e123" for an article number)."""
    entry = context["entry"]
    name = first_field("journaltitle", "journal").format_data(context)
    parts: list[BaseText] = [Tag("em", *_unitalicised(name))]
    vol = _field(entry, "volume")
    issue = _field(entry, "number") or _field(entry, "issue")
    if vol:
        parts.append(Text(Tag("em", latex_to_text(vol)), f"({_plain(issue)})" if issue else ""))
    if _field(entry, "pages"):
        parts.append(pages.format_data(context))
    elif _field(entry, "eid"):
        parts.append(Text("Article ", latex_to_text(_field(entry, "eid") or "")))
    return Text(", ").join(parts)


@node
def in_book(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "In M. Barnes & P. Cotterell (Eds.), *Book title* (pp. 79–88)"."""
    entry = context["entry"]
    booktitle = _field(entry, "booktitle")
    if booktitle is None:
        raise FieldIsMissing("booktitle", entry)
    book = latex_to_text(sentence_case(booktitle))
    booksubtitle = _field(entry, "booksubtitle")
    if booksubtitle:
        book = Text(book, ": ", latex_to_text(sentence_case(booksubtitle)))
    parts: list[Any] = ["In "]
    editors = [p for p in entry.persons.get("editor", ()) if not _is_others(p)]
    if editors:
        names = [_name_of(person).direct for person in editors]
        parts += [
            join(sep=", ", sep2=" & ", last_sep=", & ")[names].format(),
            " (Ed.), " if len(names) == 1 else " (Eds.), ",
        ]
    else:
        # A chapter in an authored book (BibLaTeX ``bookauthor``): "In C. Durose & L. Richardson, *Book*".
        bookauthor = _plain(_field(entry, "bookauthor") or "").strip()
        names = [_name_of(Person(n)).direct for n in re.split(r"\s+and\s+", bookauthor) if n]
        if names:
            parts += [join(sep=", ", sep2=" & ", last_sep=", & ")[names].format(), ", "]
    parts.append(Tag("em", *_unitalicised(book)))
    details = join(sep=", ")[children].format_data(context)
    if details:
        parts += [" (", details, ")"]
    return Text(*parts)


@node
def report_number(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "Report No. 16" (or "Briefing Paper No. 3" from ``type``)."""
    entry = context["entry"]
    number = _field(entry, "number")
    if number is None:
        raise FieldIsMissing("number", entry)
    return Text(_report_type(entry) or "Report", " No. ", latex_to_text(number))


_BIBLATEX_REPORT_TYPES = {"techreport": "Technical Report", "resreport": "Research Report"}


def _report_type(entry: Entry) -> str | None:
    value = _field(entry, "type")
    if value is None:
        return None
    return _BIBLATEX_REPORT_TYPES.get(value.lower(), _plain(value))


@node
def report_description(children: list[Any], context: dict[str, Any]) -> Text:
    """Return the ``type`` in brackets when there is no number to carry it ("[Policy brief]")."""
    entry = context["entry"]
    if _field(entry, "number") is not None:
        return Text()
    return Text(_report_type(entry) or "")


def _has_link(entry: Entry) -> bool:
    return bool(_field(entry, "doi") or _field(entry, "url"))


_THESIS_TYPES = {
    "phdthesis": "Doctoral dissertation",
    "mathesis": "Master's thesis",
    "mastersthesis": "Master's thesis",
}


@node
def thesis_description(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "Doctoral dissertation, School", or "Unpublished doctoral dissertation" when offline."""
    entry = context["entry"]
    given = _field(entry, "type")
    if given:
        kind = _THESIS_TYPES.get(given.lower(), _plain(given))
    else:
        kind = _THESIS_TYPES.get(entry.type, "Doctoral dissertation")
    school = _field(entry, "school") or _field(entry, "institution")
    if not _has_link(entry):
        return Text(f"Unpublished {kind[0].lower()}{kind[1:]}")
    if school:
        return Text(kind, ", ", latex_to_text(school))
    return Text(kind)


@node
def thesis_source(children: list[Any], context: dict[str, Any]) -> Text:
    """Return the school of an unpublished thesis, or the database or archive of a published one."""
    entry = context["entry"]
    if not _has_link(entry):
        return source("school", "institution").format_data(context)
    return source("publisher", "howpublished").format_data(context)


@node
def described_as(children: list[Any], context: dict[str, Any], *names: str, default: str = "") -> Text:
    """Return the first present of ``names`` for a bracketed description, or ``default``."""
    for name in names:
        value = _field(context["entry"], name)
        if value and not re.match(r"\\url|https?:", value):
            return latex_to_text(value)
    return Text(default)


def _doi_path(value: str) -> str:
    return re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", value.strip(), flags=re.IGNORECASE)


def _url(value: str) -> str:
    match = _URL_COMMAND.match(value.strip())
    return (match.group(1) if match else value).strip()


def _link(url: str) -> BaseText:
    # Only web addresses become links: a "javascript:" URL in the .bib stays inert text.
    if re.match(r"https?://", url, re.IGNORECASE):
        return HRef(url, url)
    return String(url)


def _long_date(value: str) -> str | None:
    match = _ISO_DATE.match(value.strip())
    if not match:
        return None
    year, month, day = match.groups()
    if month and 1 <= int(month) <= 12:
        month_name = _MONTHS[int(month) - 1]
        return f"{month_name} {int(day)}, {year}" if day else f"{month_name} {year}"
    return year


def _link_element(entry: Entry, facts: EntryFacts) -> Text:
    doi = _field(entry, "doi")
    if doi:
        address = f"https://doi.org/{_doi_path(doi)}"
        return Text(HRef(address, address))
    url = _field(entry, "url")
    if not url:
        return Text()
    link = _link(_url(url))
    urldate = _long_date(_field(entry, "urldate") or "")
    if urldate and facts.status in ("nd", "missing") and facts.kind in _FULL_DATE_KINDS:
        # APA 7 keeps retrieval dates for undated pages whose content is designed to change.
        return Text(f"Retrieved {urldate}, from ", link)
    return Text(link)


def _creator_element(facts: EntryFacts) -> Text:
    if facts.role == "title":
        return Text()
    names = [name.inverted for name in facts.names]
    if len(names) > _MAX_LISTED_AUTHORS:
        listed = Text(", ".join(names[: _MAX_LISTED_AUTHORS - 1]), ", . . . ", names[-1])
    else:
        listed = join(sep=", ", sep2=", & ", last_sep=", & ")[names].format()
    if facts.et_al:
        listed = Text(listed, ", et al.")
    if facts.role == "editor":
        listed = Text(listed, " (Ed.)" if len(names) == 1 else " (Eds.)")
    return listed


def _date_element(facts: EntryFacts, label: str, *, full: bool) -> Text:
    if full and facts.status == "year" and facts.month:
        month = _MONTHS[facts.month - 1]
        return Text(f"({label}, {month} {facts.day})" if facts.day else f"({label}, {month})")
    return Text(f"({label})")


_CLOSERS = "\"'”’"


def _with_period(text: Text) -> Text:
    """End an element with a full stop, unless it already ends with one, "?" or "!" (inside quotes too)."""
    plain = str(text)
    if plain.rstrip(_CLOSERS).endswith((".", "?", "!")):
        return text
    if plain.endswith("”"):
        # APA follows American punctuation: the full stop goes inside the closing quotation mark.
        return Text(text[:-1], ".”")
    return text.add_period()


@node
def reference(children: list[Any], context: dict[str, Any], title: Any, full_date: bool = False) -> Text:
    """Assemble an APA reference: author. (date). title. source elements. link.

    With nobody in the author position the title moves there, ahead of the date.
    """
    facts = _facts(context)
    entry = context["entry"]
    creator = _creator_element(facts)
    date = _date_element(facts, context.get("label") or _date_base(facts), full=full_date)
    title_text = title.format_data(context)
    head = [creator, date, title_text] if creator else [title_text, date]
    elements = [_with_period(Text(part)) for part in head if part]
    for child in children:
        try:
            formatted = child.format_data(context)
        except FieldIsMissing:
            continue
        if formatted:
            elements.append(_with_period(Text(formatted)))
    link = _link_element(entry, facts)
    if link:
        elements.append(link)
    if facts.original_year:
        # APA 7, republished and translated works: the note ends the reference, with no full stop.
        elements.append(Text(f"(Original work published {facts.original_year})"))
    return Text(" ").join(elements)


@node
def legislation(children: list[Any], context: dict[str, Any]) -> Text:
    """Return "Children Act 2004, c. 31. https://www.legislation.gov.uk/ukpga/2004/31"."""
    facts = _facts(context)
    entry = context["entry"]
    number = _field(entry, "number") or _field(entry, "chapter")
    head = _title(entry, sentence=False)  # the name of an Act keeps its capitals
    if number:
        plain = _plain(number)
        head = Text(head, ", ", f"c. {plain}" if plain.isdigit() else plain)
    elements = [_with_period(head)]
    link = _link_element(entry, facts)
    if link:
        elements.append(link)
    return Text(" ").join(elements)


# --------------------------------------------------------------------------- the style


class APAStyle(BaseStyle):
    """pybtex formatting style for APA 7 references (registered as ``apa7``).

    Entries are sorted in APA order and labelled with their year label ("2017a"), which the
    templates print in the date element. One ``get_<kind>_template`` per `EntryKind`.
    """

    # Plugin classes, not names: pybtex then skips its entry-point look-up, which cost 50 ms per style
    # (a Bibliography, and so a style, is made for every page's "Cite this page").
    default_name_style = PlainNameStyle
    default_label_style = NumberLabelStyle
    default_sorting_style = NoSortingStyle

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._facts_by_id: dict[int, tuple[Entry, EntryFacts]] = {}
        self.sorting_style = APASortingStyle(self.facts)
        self.label_style = APALabelStyle(self.facts)
        self.sort = self.sorting_style.sort
        self.format_labels = self.label_style.format_labels

    def facts(self, entry: Entry) -> EntryFacts:
        """Return the (cached) `EntryFacts` of an entry."""
        cached = self._facts_by_id.get(id(entry))
        if cached is not None and cached[0] is entry:
            return cached[1]
        facts = describe_entry(entry)
        # Keep the entry alive beside its facts so its id cannot be reused by another entry.
        self._facts_by_id[id(entry)] = (entry, facts)
        return facts

    def format_entry(self, label: str, entry: Entry, bib_data: Any = None) -> FormattedEntry:
        """Format one entry; ``label`` is its year label and appears in the date element."""
        facts = self.facts(entry)
        context = {"entry": entry, "style": self, "bib_data": bib_data, "label": label, "facts": facts}
        template = getattr(self, f"get_{facts.kind}_template")(entry)
        return FormattedEntry(entry.key, template.format_data(context), label)

    def get_article_template(self, e: Entry) -> Any:
        """Journal article: Author. (2009). Title. *Journal*, *39*(6), 1101–1117. DOI."""
        return reference(title=title)[journal]

    def get_book_template(self, e: Entry) -> Any:
        """Book: Author. (1998). *Title* (R. Hurley, Trans.; 2nd ed.). Publisher. DOI. (Original work published 1976)."""
        # APA separates a role from edition and volume with a semicolon: (J. Strachey, Ed.; 2nd ed.).
        details = join(sep="; ")[
            optional[roles_in_title], join(sep=", ")[optional[edition], optional[volume]]
        ]
        return reference(title=title(italic=True)[details])[
            source("publisher", "organization", "institution")
        ]

    def get_chapter_template(self, e: Entry) -> Any:
        """Chapter: Author. (2011). Title. In E. Editor (Ed.), *Book* (pp. 79–88). Publisher. DOI."""
        return reference(title=title)[
            in_book[optional[edition], optional[volume], optional[pages(label=True)]],
            source("publisher", "organization"),
        ]

    def get_report_template(self, e: Entry) -> Any:
        """Report: Author. (2008). *Title* (Report No. 16). Institution. URL."""
        return reference(title=title(italic=True, description=report_description)[optional[report_number]])[
            source("institution", "organization", "publisher")
        ]

    def get_thesis_template(self, e: Entry) -> Any:
        """Thesis: Author. (2019). *Title* [Doctoral dissertation, School]. URL."""
        return reference(title=title(italic=True, description=thesis_description))[thesis_source]

    def get_webpage_template(self, e: Entry) -> Any:
        """Web page: Author. (2019, March 5). *Title*. Site Name. URL."""
        return reference(title=title(italic=True), full_date=True)[
            source("journaltitle", "organization", "publisher", "howpublished")
        ]

    def get_blog_template(self, e: Entry) -> Any:
        """Blog post: Author. (2019, March 5). Title. *Blog Name*. URL."""
        return reference(title=title, full_date=True)[
            source("journaltitle", "organization", "publisher", "howpublished", italic=True)
        ]

    def get_legislation_template(self, e: Entry) -> Any:
        """UK legislation: Children Act 2004, c. 31. URL."""
        return legislation

    def get_unpublished_template(self, e: Entry) -> Any:
        """Unpublished manuscript: Author. (2020). *Title* [Unpublished manuscript]. Institution."""
        description = described_as("type", "howpublished", "note", default="Unpublished manuscript")
        return reference(title=title(italic=True, description=description))[
            source("institution", "school", "organization", "publisher")
        ]

    def get_misc_template(self, e: Entry) -> Any:
        """Anything else: Author. (2020). *Title* [Description]. Publisher. URL."""
        description = described_as("type", "howpublished")
        return reference(title=title(italic=True, description=description), full_date=True)[
            source("publisher", "organization", "institution")
        ]
