"""Errors: the catalogue of every problem `coguide check` can report, and the Problem record itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, kw_only=True)
class ErrorType:
    """One entry in the error catalogue.

    Attributes:
        code: Kebab-case code printed in brackets, e.g. ``unknown-citation``.
        title: A short title for the error reference page.
        description: What the error means and how to fix it, for contributors.
        severity: ``error`` fails the check; ``warning`` is printed but does not.
    """

    code: str
    title: str
    description: str
    severity: Severity = "error"


def _catalogue(*types: ErrorType) -> dict[str, ErrorType]:
    return {t.code: t for t in types}


CATALOGUE: dict[str, ErrorType] = _catalogue(
    # Reading files.
    ErrorType(
        code="unsafe-path",
        title="Path outside the project",
        description="A path would make the guide read something it must not: a URL (the check and the build "
        "never fetch anything over the network), an absolute path, a path that climbs out with `..`, or a "
        "symbolic link (which could point at any file on the machine that builds the site). Put the file "
        "itself in the project and name it by a plain relative path.",
    ),
    ErrorType(
        code="not-a-file",
        title="Not an ordinary file",
        description="A path names a folder, a named pipe, a socket or a device instead of an ordinary file. "
        "Reading a pipe would wait forever, so it is refused before anything is read. Replace it with an "
        "ordinary text file.",
    ),
    ErrorType(
        code="descriptor-contract",
        title="Schema the generator cannot trust",
        description="`datapackage.json` changes something the generator relies on whatever the descriptor "
        "says, such as a table's primary key (without it, two records could share an id and one would vanish), "
        "or drops or retypes a field the model reads. Restore the key or the field as the data dictionary "
        "shows it.",
    ),
    ErrorType(
        code="markdown-unmarked",
        title="Table with no field marked as Markdown",
        description="A record table in `datapackage.json` marks none of its fields as Markdown "
        "(the property `coguide:markdown` set to `true`). The pages stay safe, but the citations in its text are neither checked "
        "nor listed in the reference lists and the bibliography. Mark each field that holds Markdown, as the "
        "data dictionary shows.",
        severity="warning",
    ),
    ErrorType(
        code="invalid-id",
        title="Id that cannot be an address",
        description="Ids and aliases become page addresses, so the generator accepts only lower-case letters "
        "and digits joined by single hyphens (`service-user`), whatever `datapackage.json` says, and refuses "
        "names the site uses itself (such as `index`). Write the id as the hint suggests.",
    ),
    ErrorType(
        code="unexpected-file",
        title="File the site would publish unchecked",
        description="A file under `docs/` would be copied to the site as it is, or run as code in readers' "
        "browsers: an HTML or JavaScript file outside `docs/overrides/` and `docs/assets/`, an SVG image with "
        "a script, an event handler or a link to another host, or a file of a type the guide does not publish. "
        "Or a page where the generator makes one from the data (in `docs/terms/`, `docs/bibliography/` and the "
        "other folders it makes, or at the path of a page it makes), which one of the two would silently replace. "
        "Write the page in Markdown, or ask a maintainer to add the asset; move a page out of the generator's way.",
    ),
    ErrorType(
        code="unsafe-config",
        title="Configuration that opens a door",
        description="`mkdocs.yml` turns on something that lets a page pull in other files or run code at build "
        "time (the `pymdownx.snippets` include extension, an extra hooks file, a theme folder outside "
        "`docs/overrides/`). Remove it; the generator writes every included page itself.",
    ),
    ErrorType(
        code="invalid-config",
        title="Unreadable configuration",
        description="`mkdocs.yml` or `docs/blog/.authors.yml` is not valid YAML or not laid out as expected. "
        "Check the indentation near the line shown, and compare with the file in the main repository.",
    ),
    ErrorType(
        code="unknown-front-matter",
        title="Unknown front-matter key",
        description="A page's front matter (the lines between `---` at the top) has a key the guide does not "
        "support. The theme prints some keys into the page unchecked, so only the keys listed on the "
        "contributing page are accepted. Remove the key or correct its spelling.",
    ),
    ErrorType(
        code="unknown-author",
        title="Unknown essay author",
        description="An essay's `authors:` names someone who is not in `docs/blog/.authors.yml`. Add the author "
        "there (an id, a name and a short description) or correct the spelling.",
    ),
    ErrorType(
        code="errors-truncated",
        title="More problems than shown",
        description="Table validation stops after 1,000 problems in one table, so more may follow. Fix the ones "
        "shown (often one cause, such as a shifted column, explains them all) and run the check again.",
    ),
    ErrorType(
        code="missing-file",
        title="Missing file",
        description="A file that `datapackage.json` lists, or that the guide needs, does not exist. "
        "Create it (with its header row for a CSV) or fix the path in `datapackage.json`.",
    ),
    ErrorType(
        code="encoding-error",
        title="Not UTF-8",
        description="The file is not saved as UTF-8. Re-save it as UTF-8 (in a spreadsheet: "
        "*CSV UTF-8*; in an editor: *Save with encoding: UTF-8*).",
    ),
    ErrorType(
        code="csv-syntax",
        title="Broken CSV",
        description="The CSV cannot be read, usually because a quote is not closed. "
        "A cell that contains a comma, a quote or a line break must be wrapped in double quotes, "
        'and a quote inside it is written twice ("").',
    ),
    ErrorType(
        code="empty-file",
        title="Empty file",
        description="The file has no header row. Every CSV starts with the header row listed in the data dictionary.",
    ),
    ErrorType(
        code="invalid-descriptor",
        title="Invalid datapackage.json",
        description="`datapackage.json` is not valid JSON or not a valid Frictionless descriptor.",
    ),
    # Frictionless (table) checks; codes are Frictionless's own.
    ErrorType(
        code="header-error",
        title="Wrong header",
        description="The CSV's header row does not match the fields in `datapackage.json` "
        "(a column is missing, extra, misspelt or out of order).",
    ),
    ErrorType(
        code="missing-cell",
        title="Missing cell",
        description="A row has fewer cells than the header. Add the missing commas.",
    ),
    ErrorType(
        code="extra-cell",
        title="Extra cell",
        description="A row has more cells than the header, often an unquoted comma inside a text. "
        "Wrap the text in double quotes.",
    ),
    ErrorType(
        code="blank-row",
        title="Blank row",
        description="The CSV has an empty row, often left by a spreadsheet after deleting a record. Delete the empty row.",
    ),
    ErrorType(
        code="type-error",
        title="Wrong type",
        description="A cell's value does not have the field's type (for example a year that is not a whole number).",
    ),
    ErrorType(
        code="constraint-error",
        title="Constraint broken",
        description="A cell breaks a rule of its field: it is required but empty, is not one of the allowed "
        "values, is too long, or does not match the field's pattern (ids are lower-case words joined by "
        "single hyphens, such as `service-user`).",
    ),
    ErrorType(
        code="primary-key",
        title="Duplicate id",
        description="Two rows have the same id (or the same link twice). Ids must be unique; rename or delete one.",
    ),
    ErrorType(
        code="unique-error",
        title="Duplicate value",
        description="A field that must be unique (such as a label or a title) has the same value in two rows.",
    ),
    ErrorType(
        code="foreign-key",
        title="Dangling link",
        description="A link names an id that does not exist in the table it points to. "
        "Fix the id (see the hint) or add the missing record.",
    ),
    ErrorType(
        code="table-error",
        title="Table problem",
        description="Frictionless reported a problem with the table as a whole; the message says which.",
    ),
    # Our own rules.
    ErrorType(
        code="unknown-citation",
        title="Unknown citation key",
        description="A citation names a key that is not in `datapackage/references.bib`. "
        "Fix the key (see the hint) or add the work to `references.bib`.",
    ),
    ErrorType(
        code="unknown-record",
        title="Unknown record",
        description="A row of `citations.csv` names a record that does not exist in the given resource.",
    ),
    ErrorType(
        code="self-link",
        title="Record links to itself",
        description="A link table row (or a `broader` field) points a record at itself. Delete the row.",
    ),
    ErrorType(
        code="raw-html",
        title="Raw HTML",
        description="Text fields and essays use Markdown only: raw HTML tags are not allowed. "
        "Use Markdown for emphasis (`*word*`), links (`[text](https://...)`) and lists.",
    ),
    ErrorType(
        code="unsafe-link",
        title="Unsafe link",
        description="Links may point only to `http:`, `https:` or `mailto:` addresses, or to pages of the guide.",
    ),
    ErrorType(
        code="alias-collision",
        title="Alias collides",
        description="A former id listed in `aliases` is also the id (or another record's alias) in the same "
        "table, so its old address could not redirect to one page. Remove or change the alias.",
    ),
    ErrorType(
        code="front-matter",
        title="Bad essay front matter",
        description="An essay's front matter (the block between the `---` lines at its top) is not valid YAML, "
        "or lacks a required key (`date`, `authors`, `categories`, `description`), or an essay has no `# Title`.",
    ),
    ErrorType(
        code="bibtex-syntax",
        title="BibTeX does not parse",
        description="`references.bib` has a syntax error near this line: check braces, commas and the "
        "`@type{key,` opening.",
    ),
    ErrorType(
        code="duplicate-key",
        title="Duplicate BibTeX key",
        description="Two entries in `references.bib` share a key. Give one a new key (add a, b... to the year).",
    ),
    ErrorType(
        code="missing-author",
        title="Reference has no author",
        description="A BibTeX entry has no `author`, `editor` or organisation. Add the author "
        "(a group author in double braces: `{{New Economics Foundation}}`).",
    ),
    ErrorType(
        code="missing-year",
        title="Reference has no year",
        description="A BibTeX entry has no `year` or `date`. Add it, or write `year = {n.d.}` when the work "
        "really has no date.",
    ),
    ErrorType(
        code="missing-title",
        title="Reference has no title",
        description="A BibTeX entry has no `title`. Add the work's title exactly as published.",
    ),
    ErrorType(
        code="unused-reference",
        title="Unused reference",
        description="Nothing cites this work. It is listed under *Further reading* on the bibliography page; "
        "cite it or leave it there on purpose.",
        severity="warning",
    ),
    # Reported by `coguide overlap`, which needs the source texts and so is not part of `coguide check`.
    ErrorType(
        code="copied-wording",
        title="Wording copied from a source",
        description="A line of an essay or a record shares a run of words with a source text "
        "(reported by `coguide overlap SOURCE ...`, not by `coguide check`). Write the idea in your own "
        "words, or quote the source: under 25 words, in quotation marks, with its citation and page.",
    ),
    # Output folders, checked by `coguide check` and again before every build (coguide.outputs).
    ErrorType(
        code="unsafe-output",
        title="Output folder that would destroy files",
        description="`site_dir` in `mkdocs.yml`, or the `generated` folder, is a symlink, a file, the project "
        "folder or a folder around it, or lies in a folder of sources (`datapackage/`, `docs/`, `scripts/`, "
        "`tests/`, `.git/`, any folder git tracks files in). A build empties and replaces that folder, so it "
        "would delete what is there. Set `site_dir: site` (or another folder of its own) and remove a committed "
        "`generated` link or file.",
    ),
    # House rules: what CI requires of the content, checked by `coguide check` (coguide.source.rules).
    ErrorType(
        code="essay-length",
        title="Essay too short or too long",
        description="An essay's argument runs to 800-1,600 words, counted from the title to the "
        "*Discussion questions* heading (headings and the `<!-- more -->` line not counted). "
        "Develop the argument, or cut it, or split it into two essays.",
    ),
    ErrorType(
        code="essay-citations",
        title="Essay cites too little",
        description="An essay cites its sources at least 8 times (`[@key, p. 12]` or `@key [p. 12]`; "
        "a bracket with several keys counts once). Support each claim with the work it comes from.",
    ),
    ErrorType(
        code="discussion-questions",
        title="Discussion questions missing or miscounted",
        description="An essay ends with a `## Discussion questions` section holding 3 or 4 numbered "
        "questions (`1. ...`), one per line, for a seminar or journal club.",
    ),
    ErrorType(
        code="one-sentence-per-line",
        title="More than one sentence on a line",
        description="Essays are written one sentence per line, so that a reviewer can comment on each "
        "sentence in the pull request. Break the line after the sentence's full stop.",
    ),
    ErrorType(
        code="uncited-record",
        title="Record cites no source",
        description="Every label, concept, case and argument cites at least one source: a citation in "
        "its text (`[@key]`) or a row in `datapackage/citations.csv` (resource, record, key).",
    ),
    ErrorType(
        code="placeholder-text",
        title="Placeholder left from coguide new",
        description="A cell or an essay line still holds a sentence that `coguide new` wrote as an "
        'instruction ("Write a one-sentence definition ..."). Replace it with the real text.',
    ),
    ErrorType(
        code="shared-name",
        title="Name used by two records",
        description="A label, concept name or alternative name (`also_known_as`) belongs to another record "
        "too. Essays link each name to one page only, so the second record would never be linked. "
        "Keep the name on one record (merge the two if they are the same thing).",
    ),
    ErrorType(
        code="one-sided-debate",
        title="Debate without every side",
        description="Every question in `questions.csv` is answered by arguments of each stance: at least one "
        "`for`, one `against` and one `qualifies` in `arguments.csv`. Add the missing side, with its sources.",
    ),
    ErrorType(
        code="title-case-lost",
        title="Capitals a title would lose",
        description="The site puts titles in APA sentence case, lowercasing every word after the first "
        "unless it is braced or has two capitals. This title has a word that would be wrongly lowercased: "
        'a one-letter word ("R"), a word with one inner capital ("iPhone"), a capitalised proper noun in a '
        "title written in sentence case, or the author's own name written out in the title. "
        "Brace it: `{R}`, `{iPhone}`, `{Mozilla}`.",
        severity="warning",
    ),
    ErrorType(
        code="group-author",
        title="Organisation read as a person",
        description="An author or editor looks like an organisation but is not in double braces, so it is "
        'read as a person\'s name ("Mozilla Science Lab" becomes "Lab, M. S."). '
        "Write it in double braces: `author = {{Mozilla Science Lab}}`.",
        severity="warning",
    ),
)


#: The longest message or hint a problem prints; longer ones are cut with an ellipsis.
MESSAGE_LIMIT = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(text: str, limit: int) -> str:
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One problem found in the project's sources.

    Attributes:
        path: File path relative to the project root, with forward slashes.
        line: The line a contributor sees in an editor (1-based), or None for a whole file.
        code: A code from `CATALOGUE`.
        message: What is wrong.
        hint: How to fix it (optional).
        field: The CSV field or front-matter key concerned (optional).
    """

    path: str
    line: int | None
    code: str
    message: str
    hint: str = ""
    field: str = ""

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise ValueError(f"error code {self.code!r} is not in the catalogue")
        # Messages quote contributor input, and `--format github` makes them public annotations: keep every
        # message on one line and short, so no file's content (a symlinked secret, say) is ever echoed whole.
        for name in ("message", "hint"):
            object.__setattr__(self, name, _one_line(getattr(self, name), MESSAGE_LIMIT))

    @property
    def severity(self) -> Severity:
        """Return the severity the catalogue gives this problem's code."""
        return CATALOGUE[self.code].severity

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        """Order problems by file, then line, then code."""
        return (self.path, self.line or 0, self.code, self.message)

    def format(self) -> str:
        """Format the problem as ``path:line: [code] message (hint)``."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "warning: " if self.severity == "warning" else ""
        text = f"{where}: {prefix}[{self.code}] {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def format_github(self) -> str:
        """Format the problem as a GitHub Actions workflow annotation."""
        level = "warning" if self.severity == "warning" else "error"
        line = f",line={self.line}" if self.line else ""
        body = f"[{self.code}] {self.message}" + (f" ({self.hint})" if self.hint else "")
        body = body.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{level} file={self.path}{line},title={CATALOGUE[self.code].title}::{body}"


def errors_only(problems: list[Problem]) -> list[Problem]:
    """Return the problems that fail a check (not warnings)."""
    return [p for p in problems if p.severity == "error"]
