"""Rules (validate stage): the guide's house rules for content, which CI enforces through `coguide check`.

The Frictionless schema says what a valid row is; these rules say what a finished contribution is:
essays of 800-1,600 words with at least 8 citations, 3 or 4 discussion questions and one sentence per
line; records that cite a source; no instruction left by ``coguide new``; no name shared by two records;
debates argued from every side.
Two warnings (shown with ``--warnings``) catch what a reference manager's export gets wrong: title words
that APA sentence case would lowercase, and organisations written as if they were people.

Each rule reports a `Problem` with its own code from the catalogue (`HOUSE_RULES` lists them), so the
list in CONTRIBUTING.md is generated from the same catalogue and cannot drift from what is checked.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from pybtex.database import Person

from coguide.cite import Bibliography, find_citations
from coguide.cite.apa import initials, sentence_case
from coguide.errors import CATALOGUE, Problem
from coguide.markup import code_spans
from coguide.source.load import Document, Sources, Table, cell_line

#: Every code these rules report, in the order CONTRIBUTING.md lists them.
HOUSE_RULES: tuple[str, ...] = (
    "essay-length",
    "essay-citations",
    "discussion-questions",
    "one-sentence-per-line",
    "uncited-record",
    "placeholder-text",
    "shared-name",
    "one-sided-debate",
    "title-case-lost",
    "group-author",
)

MIN_WORDS, MAX_WORDS = 800, 1600
MIN_CITATIONS = 8
MIN_QUESTIONS, MAX_QUESTIONS = 3, 4
QUESTIONS_HEADING = "## Discussion questions"

#: Resources whose every record must cite a source.
CITING_RESOURCES = ("terms", "concepts", "cases", "arguments")
#: The fields that name a record in running text, by resource; the glossary links essays by these.
NAME_FIELDS: dict[str, tuple[str, ...]] = {
    "terms": ("label", "also_known_as"),
    "concepts": ("name", "also_known_as"),
}

# --- essays -------------------------------------------------------------------------------------------------

# A sentence end inside a line: a lower-case letter, its punctuation, then a new capitalised sentence of
# at least three more words running to the end of the line.
_SECOND_SENTENCE = re.compile(r"(\S*[a-z][.?!]) (?=[A-Z][a-z]+ [a-z]+ [a-z]+ .*[.?!]$)")
_ABBREVIATIONS = frozenset(
    {"al.", "e.g.", "i.e.", "cf.", "p.", "pp.", "vs.", "etc.", "ch.", "no.", "vol.", "ed.", "eds.", "approx."}
    | {"dr.", "mr.", "mrs.", "ms.", "prof.", "st."}
)
_QUESTION = re.compile(r"^\d+\. ", re.MULTILINE)


#: The skeleton `coguide new essay` writes; its instructions are what `check_placeholders` looks for.
ESSAY_TEMPLATE = """\
---
date: {date}
authors:
  - editors
categories:
  - Co-production
description: Write one sentence saying what the essay argues.
---

# {title}

Write an opening paragraph that poses the essay's question; the home page shows it as the excerpt.

<!-- more -->

Write the argument here, one sentence per line, citing works by their keys in datapackage/references.bib.
The reference list is added for you.

## Discussion questions

1. Write a question for a seminar or journal club.
2. Write a second question.
3. Write a third question; a fourth is welcome, no more.
"""


def _essay_prompts() -> tuple[str, ...]:
    """Return the instructions `coguide new essay` writes, read from its template so the two cannot drift."""
    prompts = []
    for line in ESSAY_TEMPLATE.splitlines():
        text = re.sub(r"^(description: |\d+\. )", "", line.strip())
        if text.startswith("Write "):
            prompts.append(text)
    return tuple(prompts)


ESSAY_PROMPTS = _essay_prompts()


def prose_lines(doc: Document) -> Iterator[tuple[int, str]]:
    """Yield (file line, text) for each line of an essay's argument.

    The argument is what comes before the discussion questions, outside code blocks (as `code_spans` finds
    them), headings and HTML comments.
    """
    code: set[int] = set()  # the body's lines that are code
    for start, end in code_spans(doc.body, inline=False):
        first = doc.body.count("\n", 0, start)
        code.update(range(first, first + doc.body.count("\n", start, end - 1) + 1))
    for index, line in enumerate(doc.body.split("\n")):
        if line.startswith(QUESTIONS_HEADING):
            return
        if index in code or line.lstrip().startswith("#") or "<!--" in line:
            continue
        yield doc.body_line + index, line


def prose_words(doc: Document) -> int:
    """Count the words of an essay's argument (what `essay-length` measures)."""
    return sum(len(line.split()) for _line, line in prose_lines(doc))


def _title_line(doc: Document) -> int:
    for index, line in enumerate(doc.body.split("\n")):
        if line.startswith("# "):
            return doc.body_line + index
    return doc.body_line


def check_essay(doc: Document, root: Path) -> list[Problem]:
    """Apply the house rules to one essay."""
    problems: list[Problem] = []
    title = _title_line(doc)

    def add(line: int, code: str, message: str, hint: str) -> None:
        problems.append(Problem(path=doc.path, line=line, code=code, message=message, hint=hint))

    words = prose_words(doc)
    if not MIN_WORDS <= words <= MAX_WORDS:
        short = words < MIN_WORDS
        add(
            title,
            "essay-length",
            f"the essay has {words:,} words; an essay has {MIN_WORDS} to {MAX_WORDS:,} "
            "(counted from the title to the discussion questions, headings left out)",
            f"{'develop the argument by' if short else 'cut'} {abs(words - (MIN_WORDS if short else MAX_WORDS)):,} "
            f"words or more{'' if short else ', or split it into two essays'}",
        )
    citations = len(find_citations(doc.body))
    if citations < MIN_CITATIONS:
        add(
            title,
            "essay-citations",
            f"the essay cites its sources {citations} time{'s' if citations != 1 else ''}; "
            f"an essay cites at least {MIN_CITATIONS}",
            "support each claim with the work it comes from: [@key, p. 12]",
        )
    lines = doc.body.split("\n")
    heading = next((i for i, line in enumerate(lines) if line.startswith(QUESTIONS_HEADING)), None)
    if heading is None:
        last = max((i for i, line in enumerate(lines) if line.strip()), default=0)
        add(
            doc.body_line + last,
            "discussion-questions",
            f'the essay has no "{QUESTIONS_HEADING}" section',
            f"end the essay with {QUESTIONS_HEADING} and {MIN_QUESTIONS} or {MAX_QUESTIONS} numbered "
            "questions, each on its own line: 1. 2. 3.",
        )
    else:
        count = len(_QUESTION.findall("\n".join(lines[heading + 1 :])))
        if not MIN_QUESTIONS <= count <= MAX_QUESTIONS:
            add(
                doc.body_line + heading,
                "discussion-questions",
                f"the essay has {count} numbered discussion question{'s' if count != 1 else ''}; "
                f"it needs {MIN_QUESTIONS} or {MAX_QUESTIONS}",
                "write one question per line, each starting with its number: 1. 2. 3.",
            )
    for line_no, line in prose_lines(doc):
        if not line.rstrip().endswith((".", "?", "!")):
            continue
        for match in _SECOND_SENTENCE.finditer(line.rstrip()):
            end = match.group(1)
            if end.lower().lstrip("([\"'") in _ABBREVIATIONS:
                continue
            after = line[match.end() : match.end() + 30].rstrip()
            add(
                line_no,
                "one-sentence-per-line",
                f'the line holds more than one sentence: "…{end[-30:]} {after}…"',
                f'start a new line after "{end[-30:]}"',
            )
            break
    for index, line in enumerate(lines):
        for prompt in ESSAY_PROMPTS:
            if prompt in line:
                add(
                    doc.body_line + index,
                    "placeholder-text",
                    f'the instruction "{prompt}" from coguide new is still here',
                    "replace it with your own text",
                )
    description = doc.meta.get("description")
    if isinstance(description, str) and any(prompt in description for prompt in ESSAY_PROMPTS):
        add(
            _front_matter_line(root / doc.path, "description"),
            "placeholder-text",
            "the front matter's description is still the instruction from coguide new",
            "write one sentence saying what the essay argues",
        )
    return problems


def _front_matter_line(path: Path, key: str) -> int:
    """Return the line of `key:` in a file's front matter (1 if it cannot be found)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return 1
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1


# --- records --------------------------------------------------------------------------------------------------


def record_prompts(sources: Sources) -> dict[str, tuple[str, ...]]:
    """Return the instructions `coguide new` writes into each record table's cells."""
    prompts: dict[str, tuple[str, ...]] = {}
    for record_type in sources.registry.values():
        if record_type.name == "questions":  # `coguide new` makes no question
            continue
        generic = [f"Write the {field.title.lower()}." for field in record_type.fields]
        prompts[record_type.name] = tuple(dict.fromkeys([*record_type.prompts.values(), *generic]))
    return prompts


def check_placeholders(sources: Sources) -> list[Problem]:
    """Report cells that still hold an instruction written by `coguide new`."""
    problems = []
    for name, prompts in record_prompts(sources).items():
        table = sources.tables.get(name)
        if table is None or not prompts:
            continue
        # One search per cell rejects the cells that hold no instruction (nearly all of them) at once.
        any_prompt = re.compile("|".join(re.escape(p) for p in prompts))
        for row in table.rows:
            for field, value in row.values.items():
                if not any_prompt.search(value):
                    continue
                prompt = next((p for p in prompts if p in value), None)
                if prompt is None:
                    continue
                problems.append(
                    Problem(
                        path=table.path,
                        line=cell_line(table, row.values, row.line, field),
                        code="placeholder-text",
                        field=field,
                        message=f'{field} of "{row.values.get("id", "")}" is still the instruction "{prompt}"',
                        hint="replace the instruction with your own text",
                    )
                )
    return problems


def check_record_sources(sources: Sources) -> list[Problem]:
    """Report labels, concepts, cases and arguments that cite nothing, in their text or in citations.csv."""
    listed: set[tuple[str, str]] = set()
    citations = sources.tables.get("citations")
    if citations is not None:
        listed = {(r.values.get("resource", ""), r.values.get("record", "")) for r in citations.rows}
    problems = []
    text_fields = sources.registry.text_fields
    for name in CITING_RESOURCES:
        table = sources.tables.get(name)
        if table is None or not table.readable:
            continue
        for row in table.rows:
            record = row.values.get("id", "")
            if not record or (name, record) in listed:
                continue
            if any(find_citations(row.values.get(field, "")) for field in text_fields.get(name, ())):
                continue
            problems.append(
                Problem(
                    path=table.path,
                    line=row.line,
                    code="uncited-record",
                    field="id",
                    message=f'"{record}" cites no source',
                    hint=f"cite one in its text as [@key], or add the row {name},{record},KEY, "
                    "to datapackage/citations.csv",
                )
            )
    return problems


def _names(table: Table, fields: tuple[str, ...]) -> Iterator[tuple[str, str, str, int]]:
    """Yield (name, record id, field, editor line) for every name and alternative name in a table."""
    for row in table.rows:
        for field in fields:
            for name in row.values.get(field, "").split(";"):
                name = " ".join(name.split())
                if name:
                    yield name, row.values.get("id", ""), field, cell_line(table, row.values, row.line, field)


def check_shared_names(sources: Sources) -> list[Problem]:
    """Report a label, concept name or alternative name that another record already uses."""
    owners: dict[str, tuple[str, str, str, int]] = {}
    problems = []
    for resource, fields in NAME_FIELDS.items():
        table = sources.tables.get(resource)
        if table is None or not table.readable:
            continue
        for name, record, field, line in _names(table, fields):
            key = name.casefold()
            owner = owners.get(key)
            if owner is None:
                owners[key] = (resource, record, field, line)
                continue
            if (owner[0], owner[1]) == (resource, record):
                continue
            owner_table = sources.tables[owner[0]]
            what = "an alternative name" if owner[2] == "also_known_as" else f"the {owner[2]}"
            problems.append(
                Problem(
                    path=table.path,
                    line=line,
                    code="shared-name",
                    field=field,
                    message=f'"{name}" ({field} of "{record}") is already {what} of "{owner[1]}" '
                    f"({owner_table.path}:{owner[3]})",
                    hint="essays link a name to one page only: keep it on one record, "
                    "or merge the two records if they are the same thing",
                )
            )
    return problems


STANCES = ("for", "against", "qualifies")


def check_debates(sources: Sources) -> list[Problem]:
    """Report questions that lack an argument of some stance (for, against, qualifies)."""
    questions, arguments = sources.tables.get("questions"), sources.tables.get("arguments")
    if questions is None or arguments is None or not questions.readable or not arguments.readable:
        return []
    stances: dict[str, set[str]] = {}
    for row in arguments.rows:
        stances.setdefault(row.values.get("question", ""), set()).add(row.values.get("stance", ""))
    problems = []
    for row in questions.rows:
        question = row.values.get("id", "")
        given = stances.get(question, set())
        missing = [s for s in STANCES if s not in given]
        # An argument whose stance is not one of the three is already an error of its own (a cause): the gap
        # it leaves is its consequence, so it is not reported again here.
        if question and missing and given <= set(STANCES):
            problems.append(
                Problem(
                    path=questions.path,
                    line=row.line,
                    code="one-sided-debate",
                    field="id",
                    message=f'the debate "{question}" has no argument with the stance{"s" if len(missing) > 1 else ""} '
                    + ", ".join(missing),
                    hint=f"add a {missing[0]} argument for this question to {arguments.path}; "
                    f"`coguide new argument ID --question {question}` starts one, then set its stance",
                )
            )
    return problems


# --- references ------------------------------------------------------------------------------------------------

_TITLE_FIELDS = ("title", "booktitle", "subtitle")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_BREAK = frozenset(":?!")
# Words that title case leaves in lower case; a title with any other lower-case word is in sentence case.
_MINOR = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "but",
        "or",
        "nor",
        "for",
        "so",
        "yet",
        "of",
        "on",
        "in",
        "at",
        "to",
        "by",
        "as",
        "up",
        "via",
        "per",
        "vs",
        "with",
        "from",
        "into",
        "onto",
        "upon",
        "over",
        "than",
        "that",
        "this",
        "about",
        "among",
        "between",
        "through",
        "under",
        "within",
        "without",
        "versus",
        "beyond",
        "against",
        "across",
        "after",
        "before",
        "during",
        "toward",
        "towards",
        "until",
        "like",
        "near",
        "past",
        "since",
        "after",
        "before",
    ]
)
#: Words that mark a name as an organisation's rather than a person's.
ORGANISATION_WORDS = frozenset(
    [
        "Agency",
        "Alliance",
        "Association",
        "Authority",
        "Board",
        "Bureau",
        "Centre",
        "Center",
        "Club",
        "Coalition",
        "Collaboration",
        "College",
        "Commission",
        "Committee",
        "Company",
        "Consortium",
        "Corporation",
        "Council",
        "Department",
        "Executive",
        "Federation",
        "Forum",
        "Foundation",
        "Government",
        "Group",
        "Inc",
        "Initiative",
        "Institute",
        "Institution",
        "Lab",
        "Laboratory",
        "Library",
        "Ltd",
        "Ministry",
        "Network",
        "Observatory",
        "Office",
        "Organisation",
        "Organization",
        "Parliament",
        "Partnership",
        "Project",
        "Service",
        "Services",
        "Society",
        "Team",
        "Trust",
        "Union",
        "University",
    ]
)


def _title_words(value: str) -> Iterator[tuple[str, bool]]:
    """Yield each unbraced word of a BibTeX title and whether sentence case keeps its first capital.

    Walks the text as `coguide.cite.apa.sentence_case` does: braced text and LaTeX commands are skipped, and
    the first word and the first word after a colon, question mark or exclamation mark keep a capital.
    """
    depth, capital, index, previous = 0, True, 0, ""
    while index < len(value):
        char = value[index]
        if char == "\\":
            command = re.match(r"\\(?:[A-Za-z]+|.)", value[index:])
            index += len(command.group()) if command else 1
            previous = "\\"
            continue
        if char == "{":
            depth += 1
            capital = capital and depth > 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif depth == 0:
            word = _WORD.match(value, index) if char.isalpha() and not previous.isalnum() else None
            if word:
                yield word.group(), capital
                index, previous, capital = word.end(), word.group()[-1], False
                continue
            if char.isalnum():
                capital = False
            elif char in _SENTENCE_BREAK:
                capital = True
        previous = char
        index += 1


def lost_capitals(title: str, names: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Return the words of a title that APA sentence case would wrongly lowercase, each with the reason.

    A one-letter capital ("R", but not the article "A") and a word with a single inner capital ("iPhone")
    are always flagged. A capitalised word in mid-title is flagged only when the title is written in
    sentence case (it has a lower-case word that title case would capitalise), because there the capital
    marks a proper noun. In a title written in title case only one thing does: the word is part of a
    name of two or more words among `names` (the entry's authors and organisations) written out unbraced in
    it, as in "Doing Business with the Big Lottery Fund" by the Big Lottery Fund.

    Args:
        title: The title as written in the .bib file, braces included.
        names: Names from the same entry whose words are proper nouns.

    Returns:
        (word, reason) pairs, in title order, without repeats.
    """
    unbraced = re.sub(r"\{[^{}]*\}", "\x00", title)
    named = set()
    for name in names:
        name_words = name.replace("{", "").replace("}", "").split()
        if len(name_words) > 1 and " ".join(name_words) in unbraced:
            named.update(word for word in name_words if word[:1].isupper())
    words = list(_title_words(title))
    sentence_cased = any(
        not keeps and word.islower() and len(word) >= 4 and word.lower() not in _MINOR
        for word, keeps in words
    )
    found: list[tuple[str, str]] = []
    for word, keeps in words:
        for part in word.split("-"):
            capitals = [i for i, c in enumerate(part) if c.isupper()]
            if len(capitals) != 1 or (keeps and part is word.split("-")[0] and capitals == [0]):
                continue
            if len(part) == 1 and part != "A":
                found.append((part, "a one-letter word"))
            elif capitals[0] > 0:
                found.append((part, "a word with an inner capital"))
            elif sentence_cased and len(part) > 1:
                found.append((part, "capitalised in a title written in sentence case"))
            elif part in named and part.lower() not in _MINOR:
                found.append((part, "part of the author's name"))
    return list(dict.fromkeys(found))


def _field_line(bib: Bibliography, key: str, field: str) -> int:
    """Return the .bib line where an entry's field starts (the entry's line if it cannot be found)."""
    for offset, line in enumerate(bib.bibtex(key).splitlines()):
        if re.match(rf"\s*{field}\s*=", line, re.IGNORECASE):
            return bib.line_of(key) + offset
    return bib.line_of(key)


def _read_as(person: Person) -> str:
    """Return how BibTeX reads a name: "Lab, M. S." for "Mozilla Science Lab"."""
    last = " ".join(person.prelast_names + person.last_names).replace("{", "").replace("}", "")
    given = initials(" ".join(person.first_names + person.middle_names).replace("{", "").replace("}", ""))
    return f"{last}, {given}" if given else last


def looks_like_organisation(person: Person) -> bool:
    """Return True if a name that BibTeX will split into parts looks like an organisation's."""
    parts = person.first_names + person.middle_names + person.prelast_names + person.last_names
    parts += person.lineage_names
    if len(parts) == 1 and parts[0].startswith("{") and parts[0].endswith("}"):
        return False
    words = [w for part in parts for w in re.split(r"[\s~]+", part.replace("{", "").replace("}", "")) if w]
    return any(
        w.strip(".,&'’s") in ORGANISATION_WORDS
        or (len(w) >= 3 and w.isupper() and w.isalpha() and not re.fullmatch("[IVXLC]+", w))
        for w in words
    )


def check_references(bib: Bibliography, bib_path: str) -> list[Problem]:
    """Warn about titles that would lose proper capitals and organisations read as people."""
    problems = []
    for key in bib.keys:
        entry = bib.entry(key)
        names = [str(entry.fields.get(f) or "") for f in ("organization", "institution")]
        names += [
            " ".join(p.first_names + p.middle_names + p.last_names) for p in entry.persons.get("author", ())
        ]
        for field in _TITLE_FIELDS:
            value = entry.fields.get(field) or ""
            lost = lost_capitals(value, names)
            if not lost:
                continue
            listed = ", ".join(f'"{word}" ({reason})' for word, reason in lost)
            shown = sentence_case(value).replace("{", "").replace("}", "")
            problems.append(
                Problem(
                    path=bib_path,
                    line=_field_line(bib, key, field),
                    code="title-case-lost",
                    field=field,
                    message=f'{field} of "{key}" would be shown as "{shown}": sentence case lowercases {listed}',
                    hint="brace each word that must keep its capitals: "
                    + ", ".join("{" + word + "}" for word, _reason in lost),
                )
            )
        for role in ("author", "editor"):
            for person in entry.persons.get(role, ()):
                if not looks_like_organisation(person):
                    continue
                name = (
                    " ".join(
                        person.first_names + person.middle_names + person.prelast_names + person.last_names
                    )
                    .replace("{", "")
                    .replace("}", "")
                )
                problems.append(
                    Problem(
                        path=bib_path,
                        line=_field_line(bib, key, role),
                        code="group-author",
                        field=role,
                        message=f'{role} "{name}" of "{key}" looks like an organisation but is read as a '
                        f'person, "{_read_as(person)}"',
                        hint=f"brace the whole name so it is read as one: {{{name}}}, as in {role} = {{{{{name}}}}}",
                    )
                )
    return problems


# --- all rules -----------------------------------------------------------------------------------------------


def check_house_rules(
    sources: Sources, bib: Bibliography, *, references: list[Problem] | None = None
) -> list[Problem]:
    """Apply every house rule to the loaded sources and the parsed bibliography.

    Args:
        sources: What the load stage read.
        bib: The parsed bibliography.
        references: What `check_references` found in this bibliography, when an earlier run kept it (the
            check reads the bibliography only, so it need not run again while the ``.bib`` is unchanged).

    Returns:
        The problems found; the reference checks are warnings, the rest errors.
    """
    problems: list[Problem] = []
    for doc in sources.documents:
        if doc.is_post:
            problems.extend(check_essay(doc, sources.root))
    problems.extend(check_record_sources(sources))
    problems.extend(check_placeholders(sources))
    problems.extend(check_shared_names(sources))
    problems.extend(check_debates(sources))
    problems.extend(check_references(bib, sources.bib_path) if references is None else references)
    return problems


# --- the list in CONTRIBUTING.md --------------------------------------------------------------------------------

BEGIN = (
    "[//]: # (house-rules: generated from the error catalogue by python -m coguide.source.rules; do not edit)"
)
END = "[//]: # (/house-rules)"


def house_rules_markdown() -> str:
    """Return the list of house rules for CONTRIBUTING.md, made from the error catalogue."""
    lines = []
    for code in HOUSE_RULES:
        error = CATALOGUE[code]
        kind = " (a warning, shown with `--warnings`)" if error.severity == "warning" else ""
        lines.append(f"- **{error.title}** `[{code}]`{kind}: {error.description}")
    # Blank lines around the markers: a marker right after the list would be read as part of its last item.
    return "\n\n".join([BEGIN, "\n".join(lines), END])


def update_contributing(path: Path) -> bool:
    """Rewrite the generated block of CONTRIBUTING.md; return True if the file changed."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path} has no generated house-rules block ({BEGIN} ... {END})")
    updated = text[:start] + house_rules_markdown() + text[end + len(END) :]
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("CONTRIBUTING.md")
    print(f"{target}: {'updated' if update_contributing(target) else 'already current'}")
