"""Model: frozen records built from validated sources, with every link resolved in both directions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from coguide.cite import Bibliography, Citation, find_citations
from coguide.source.load import DATA_DIR, Document, Sources, package_files
from coguide.source.schema import RECORD_RESOURCES, Registry

T = TypeVar("T")
Resource = Literal["terms", "concepts", "cases", "questions", "arguments"]
Stance = Literal["for", "against", "qualifies"]
Level = Literal["individual", "group", "collective"]

#: Where each resource's pages live, relative to the site root.
#: The theme's template folder under docs/: code for the engine, not pages of the site.
THEME_DIR = "docs/overrides/"
SECTION: dict[str, str] = {"terms": "terms", "concepts": "concepts", "cases": "cases"}


@dataclass(frozen=True, kw_only=True)
class CitationRef:
    """A record's citation of a work, from the citations table."""

    key: str
    locator: str = ""


@dataclass(frozen=True, kw_only=True)
class Record:
    """Fields every record shares."""

    id: str
    line: int
    citations: tuple[CitationRef, ...] = ()
    questions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    #: The fields (schema names) that hold Markdown, as the descriptor marks them.
    text_fields: tuple[str, ...] = ()

    resource: str = field(default="", init=False)

    def texts(self) -> Iterator[str]:
        """Yield the record's Markdown texts (each discussion question on its own), skipping empty ones."""
        for name in self.text_fields:
            value = getattr(self, FIELD_PLACES.get(name, name), "")
            for text in value if isinstance(value, tuple) else (value,):
                if text:
                    yield text

    @property
    def sources_pandoc(self) -> str:
        """Return all of the record's citations-table sources as one Pandoc citation (or "")."""
        items = [f"@{c.key}, {c.locator}" if c.locator else f"@{c.key}" for c in self.citations]
        return f"[{'; '.join(items)}]" if items else ""

    @property
    def source_path(self) -> str:
        """Return the data file the record lives in."""
        return f"datapackage/{self.resource}.csv"

    @property
    def src_uri(self) -> str:
        """Return the generated Markdown file's path relative to the site's pages."""
        return f"{SECTION[self.resource]}/{self.id}.md"

    @property
    def url(self) -> str:
        """Return the page's URL relative to the site root (with a trailing slash)."""
        return f"{SECTION[self.resource]}/{self.id}/"


@dataclass(frozen=True, kw_only=True)
class Term(Record):
    """A label given to people who use public services."""

    label: str
    also_known_as: tuple[str, ...]
    definition: str
    relationship: str
    power: str
    sectors: tuple[str, ...]
    era: str
    era_start: int
    history: str
    critiques: str
    main_critique: str
    concepts: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    resource: str = field(default="terms", init=False)

    @property
    def title(self) -> str:
        """Return the label with its first letter capitalised, for headings."""
        return self.label[:1].upper() + self.label[1:]


@dataclass(frozen=True, kw_only=True)
class Concept(Record):
    """An idea the debates rely on."""

    name: str
    also_known_as: tuple[str, ...]
    summary: str
    body: str
    broader: str | None = None
    narrower: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    resource: str = field(default="concepts", init=False)

    @property
    def title(self) -> str:
        """Return the name with its first letter capitalised, for headings."""
        return self.name[:1].upper() + self.name[1:]


@dataclass(frozen=True, kw_only=True)
class Case(Record):
    """A real programme, policy, law, report or study."""

    title: str
    start_year: int
    end_year: int | None
    country: str
    sector: str
    level: Level
    kind: str
    summary: str
    outcomes: str
    critiques: str
    source_url: str
    concepts: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    resource: str = field(default="cases", init=False)

    @property
    def years(self) -> str:
        """Return the years as text: ``2004`` or ``2007–2010``."""
        if self.end_year and self.end_year != self.start_year:
            return f"{self.start_year}–{self.end_year}"
        return str(self.start_year)


@dataclass(frozen=True, kw_only=True)
class Argument(Record):
    """A claim made in a debate."""

    question: str
    stance: Stance
    claim: str
    reasoning: str
    proponent: str
    concepts: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    resource: str = field(default="arguments", init=False)

    @property
    def url(self) -> str:
        """Return the argument's anchor on the debates page."""
        return f"debates/#{self.id}"

    @property
    def title(self) -> str:
        """Return the claim as the argument's title."""
        return self.claim


@dataclass(frozen=True, kw_only=True)
class Question(Record):
    """A debate question grouping arguments for, against and qualifying it."""

    question: str
    summary: str
    arguments: tuple[str, ...] = ()
    resource: str = field(default="questions", init=False)

    @property
    def url(self) -> str:
        """Return the question's anchor on the debates page."""
        return f"debates/#{self.id}"

    @property
    def title(self) -> str:
        """Return the question as its title."""
        return self.question


@dataclass(frozen=True, kw_only=True)
class Essay:
    """A dated essay (blog post) written by hand under ``docs/blog/posts/``."""

    path: str
    src_uri: str
    title: str
    date: dt.date
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    description: str
    excerpt: str
    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class WrittenPage:
    """A hand-written page under ``docs/`` (an essay included), as the docs tree will publish it.

    Attributes:
        path: Its file, relative to the project root.
        src_uri: Its place among the site's pages (``about.md``, ``blog/posts/x.md``).
        meta: Its front matter, already checked against the supported keys.
        body: Its Markdown after the front matter.
        is_post: True for essays.
    """

    path: str
    src_uri: str
    meta: dict[str, Any]
    body: str
    is_post: bool


@dataclass(frozen=True, kw_only=True)
class Contributor:
    """A person or group credited on the Contributors page."""

    name: str
    roles: tuple[str, ...]
    since: int
    url: str = ""


@dataclass(frozen=True, kw_only=True)
class Citer:
    """A page that cites a work: what the bibliography's back-links point at."""

    title: str
    url: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class SiteInfo:
    """What the published site is called, where it lives, and when each source last changed.

    Attributes:
        name: The site's name (the group author in "Cite this page").
        url: The site's absolute base URL with a trailing slash, or "" when unknown (local builds).
        updated: ISO date of the last commit touching each source file (project-relative path); a
            file outside version control has no date.
        authors: Essay authors' names by their id in the blog's authors file; ``editors`` names the
            editors, who publish the guide and write the essays that name no one else.
    """

    name: str = "Client, patient, customer, citizen?"
    url: str = ""
    updated: dict[str, str] = field(default_factory=dict)
    authors: dict[str, str] = field(default_factory=dict)


class ParsedTexts:
    """Every Markdown text of the site with its citations, parsed once, and what pages make of a text, memoised.

    The model fills it with every record's Markdown fields, every discussion question and every hand-written
    page's body; a shorter text cut from one of them (a first sentence) is parsed on first use. Pages keep
    what they derive from a text (its HTML for one depth of page, its plain text) in `memo`, so a text shown on
    many pages is rendered once per site (twice, when only a reuse is kept). It belongs to one model: there is
    no cache outside it.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.citations: dict[str, tuple[Citation, ...]] = {}
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._seen: set[tuple[Any, ...]] = set()

    def add(self, text: str) -> None:
        """Parse a text's citations (once)."""
        if text not in self.citations:
            self.citations[text] = tuple(find_citations(text))

    def cites(self, text: str) -> tuple[Citation, ...]:
        """Return the citations in a text, in order."""
        found = self.citations.get(text)
        if found is None:
            found = self.citations[text] = tuple(find_citations(text))
        return found

    def keys(self, text: str) -> tuple[str, ...]:
        """Return the keys a text cites, each once, in order."""
        return tuple(dict.fromkeys(i.key for c in self.cites(text) for i in c.items))

    def memo(self, key: tuple[Any, ...], make: Callable[[], T], *, reused_only: bool = False) -> T:
        """Return what `make` gives for `key`, making it on the first call only.

        With `reused_only`, the value is kept from the second call for `key` on (the first call's is made and
        given, not kept): for values most of which are asked for once (a record's own text, on its own page),
        keeping only those asked for again holds far less memory for the cost of making each of those twice.
        """
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            if reused_only and key not in self._seen:
                self._seen.add(key)
                return make()
            value = self._memo[key] = make()
            return value


@dataclass(frozen=True, kw_only=True)
class Site:
    """The whole guide as the renderer sees it."""

    terms: dict[str, Term]
    concepts: dict[str, Concept]
    cases: dict[str, Case]
    questions: dict[str, Question]
    arguments: dict[str, Argument]
    essays: tuple[Essay, ...]
    bibliography: Bibliography
    descriptor: dict[str, Any]
    cited_by: dict[str, tuple[Citer, ...]]
    contributors: tuple[Contributor, ...] = ()
    info: SiteInfo = field(default_factory=SiteInfo)
    #: Hand-written pages under ``docs/``, in a stable order.
    documents: tuple[WrittenPage, ...] = ()
    #: Other files under ``docs/`` the site publishes as they are (images, styles, scripts), by their place.
    assets: dict[str, str] = field(default_factory=dict)
    #: Essay author names by id.
    authors: dict[str, str] = field(default_factory=dict)
    #: Pages kept outside ``docs/`` (CONTRIBUTING.md), by their place in the site: (source path, Markdown).
    included: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The data package's files (descriptor, tables, bibliography) as (name, bytes), sorted by name: published as they are.
    package: tuple[tuple[str, bytes], ...] = ()
    #: The bibliography's file, relative to the project root.
    bib_path: str = f"{DATA_DIR}/references.bib"
    #: The record types the descriptor declares.
    registry: Registry = field(default_factory=lambda: Registry(()))
    #: Every Markdown text's citations, parsed once, and what pages derive from each text.
    texts: ParsedTexts = field(default_factory=ParsedTexts, compare=False, repr=False)

    def record(self, resource: str, record_id: str) -> Record:
        """Return one record by resource name and id."""
        return getattr(self, resource)[record_id]


def _split(value: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(sep) if part.strip())


def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def _int(value: str) -> int | None:
    return int(value) if value.strip() else None


#: Schema fields whose place in the model has another name (the CSV's one question per line -> `questions`).
FIELD_PLACES: dict[str, str] = {"discussion_questions": "questions"}

#: Where each model field that no schema field fills comes from, by record class.
DERIVED: dict[str, dict[str, str]] = {
    "Record": {
        "line": "the row's line in its table",
        "citations": "the citations table",
        "resource": "the record class (its table's name)",
        "text_fields": "the registry (the fields datapackage.json marks as Markdown)",
    },
    "Term": {
        "concepts": "the term_concepts table",
        "cases": "the case_terms table",
        "arguments": "the argument_terms table",
    },
    "Concept": {
        "narrower": "the broader field of other concepts",
        "related": "the concept_related table, both ways",
        "terms": "the term_concepts table",
        "cases": "the case_concepts table",
        "arguments": "the argument_concepts table",
    },
    "Case": {"concepts": "the case_concepts table", "terms": "the case_terms table"},
    "Question": {
        "arguments": "the arguments table's question field",
        "questions": "none: a debate question has no discussion questions (always empty)",
        "aliases": "none: a debate question is never renamed (always empty)",
    },
    "Argument": {
        "concepts": "the argument_concepts table",
        "terms": "the argument_terms table",
        "questions": "none: an argument has no discussion questions (always empty)",
        "aliases": "none: an argument is never renamed (always empty)",
    },
}


def _fields(registry: Registry, resource: str, cls: type, values: dict[str, str]) -> dict[str, Any]:
    """Return the keyword arguments of `cls` that a row's cells fill, converted as the registry declares.

    A list field becomes a tuple (split at semicolons or lines), an integer an int (None when blank and the
    model allows it), an empty optional text None where the model allows it. A field the model has no place
    for is left out (the descriptor contract and the model's tests keep the two in step).
    """
    hints = {f.name: str(f.type) for f in dataclasses.fields(cls) if f.init}
    found: dict[str, Any] = {}
    for spec in registry[resource].fields:
        place = FIELD_PLACES.get(spec.name, spec.name)
        if place not in hints:
            continue
        raw = values.get(spec.name, "")
        value: Any
        if spec.list == "semicolon":
            value = _split(raw)
        elif spec.list == "line":
            value = _lines(raw)
        elif spec.type == "integer":
            value = _int(raw)
        else:
            value = raw
        if value == "" and "None" in hints[place]:
            value = None
        found[place] = value
    found["text_fields"] = registry[resource].markdown_fields
    return found


def _links(
    sources: Sources, name: str, left: str, right: str
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    table = sources.tables.get(name)
    for row in table.rows if table else ():
        a, b = row.values[left], row.values[right]
        forward[a].append(b)
        backward[b].append(a)
    return forward, backward


def _citations(sources: Sources) -> dict[tuple[str, str], tuple[CitationRef, ...]]:
    found: dict[tuple[str, str], list[CitationRef]] = defaultdict(list)
    table = sources.tables.get("citations")
    for row in table.rows if table else ():
        v = row.values
        found[(v["resource"], v["record"])].append(CitationRef(key=v["key"], locator=v.get("locator", "")))
    return {k: tuple(v) for k, v in found.items()}


def _rows(sources: Sources, name: str) -> list[tuple[int, dict[str, str]]]:
    table = sources.tables.get(name)
    return [(row.line, row.values) for row in table.rows] if table else []


def _essay(doc: Document, texts: ParsedTexts) -> Essay:
    lines = doc.body.splitlines()
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), doc.src_uri)
    body_after_title = doc.body.split("\n", 1)[1] if doc.body.startswith("# ") else doc.body
    before_more = body_after_title.split("<!-- more -->", 1)[0]
    paragraphs = [
        p.strip() for p in before_more.split("\n\n") if p.strip() and not p.lstrip().startswith("#")
    ]
    excerpt = " ".join(paragraphs[0].split()) if paragraphs else ""
    date = doc.meta.get("date")
    if isinstance(date, dt.datetime):
        date = date.date()
    if not isinstance(date, dt.date):
        date = dt.date.fromisoformat(str(date))
    keys = texts.keys(doc.body)
    return Essay(
        path=doc.path,
        src_uri=doc.src_uri,
        title=title,
        date=date,
        authors=tuple(doc.meta.get("authors") or ()),
        categories=tuple(doc.meta.get("categories") or ()),
        description=str(doc.meta.get("description", "")),
        excerpt=excerpt,
        keys=keys,
    )


def essay_url(essay: Essay) -> str:
    """Return an essay's URL as the blog publishes it (``blog/YYYY/MM/DD/slug/``)."""
    slug = essay.src_uri.rsplit("/", 1)[-1].removesuffix(".md")
    return f"blog/{essay.date:%Y/%m/%d}/{slug}/"


def build_model(
    sources: Sources,
    bibliography: Bibliography,
    info: SiteInfo | None = None,
    citations: dict[str, tuple[Citation, ...]] | None = None,
) -> Site:
    """Build the site model from sources that passed validation.

    Raises:
        ValueError: A resource path in the descriptor points outside the package folder (validation refuses
            such a descriptor first).

    Args:
        sources: Validated sources (building from sources with errors is undefined).
        bibliography: The parsed bibliography.
        info: The site's name, URL and source dates (defaults: no URL, no dates).
        citations: Texts validation already parsed, with their citations (`Validation.citations`): the
            model keeps them rather than parsing those texts again.

    Returns:
        Frozen records with links resolved both ways and the bibliography's back-links.
    """
    cites = _citations(sources)
    term_concepts, concept_terms = _links(sources, "term_concepts", "term", "concept")
    case_concepts, concept_cases = _links(sources, "case_concepts", "case", "concept")
    case_terms, term_cases = _links(sources, "case_terms", "case", "term")
    argument_concepts, concept_arguments = _links(sources, "argument_concepts", "argument", "concept")
    argument_terms, term_arguments = _links(sources, "argument_terms", "argument", "term")
    related_fwd, related_back = _links(sources, "concept_related", "concept", "related")

    registry = sources.registry
    texts = ParsedTexts()
    texts.citations.update(citations or {})
    terms = {
        v["id"]: Term(
            line=line,
            **_fields(registry, "terms", Term, v),
            citations=cites.get(("terms", v["id"]), ()),
            concepts=tuple(term_concepts[v["id"]]),
            cases=tuple(term_cases[v["id"]]),
            arguments=tuple(term_arguments[v["id"]]),
        )
        for line, v in _rows(sources, "terms")
    }
    narrower: dict[str, list[str]] = defaultdict(list)
    for _line, v in _rows(sources, "concepts"):
        if v.get("broader"):
            narrower[v["broader"]].append(v["id"])
    concepts = {
        v["id"]: Concept(
            line=line,
            **_fields(registry, "concepts", Concept, v),
            narrower=tuple(narrower[v["id"]]),
            related=tuple(dict.fromkeys(related_fwd[v["id"]] + related_back[v["id"]])),
            citations=cites.get(("concepts", v["id"]), ()),
            terms=tuple(concept_terms[v["id"]]),
            cases=tuple(concept_cases[v["id"]]),
            arguments=tuple(concept_arguments[v["id"]]),
        )
        for line, v in _rows(sources, "concepts")
    }
    cases = {
        v["id"]: Case(
            line=line,
            **_fields(registry, "cases", Case, v),
            citations=cites.get(("cases", v["id"]), ()),
            concepts=tuple(case_concepts[v["id"]]),
            terms=tuple(case_terms[v["id"]]),
        )
        for line, v in _rows(sources, "cases")
    }
    arguments = {
        v["id"]: Argument(
            line=line,
            **_fields(registry, "arguments", Argument, v),
            citations=cites.get(("arguments", v["id"]), ()),
            concepts=tuple(argument_concepts[v["id"]]),
            terms=tuple(argument_terms[v["id"]]),
        )
        for line, v in _rows(sources, "arguments")
    }
    by_question: dict[str, list[str]] = defaultdict(list)
    for argument in arguments.values():
        by_question[argument.question].append(argument.id)
    questions = {
        v["id"]: Question(
            line=line,
            **_fields(registry, "questions", Question, v),
            citations=cites.get(("questions", v["id"]), ()),
            arguments=tuple(by_question[v["id"]]),
        )
        for line, v in _rows(sources, "questions")
    }
    essays = tuple(
        sorted(
            (_essay(d, texts) for d in sources.documents if d.is_post),
            key=lambda e: (e.date, e.title),
            reverse=True,
        )
    )
    site = Site(
        terms=terms,
        concepts=concepts,
        cases=cases,
        questions=questions,
        arguments=arguments,
        essays=essays,
        bibliography=bibliography,
        descriptor=sources.descriptor,
        cited_by={},
        info=info or SiteInfo(),
        contributors=tuple(
            Contributor(name=v["name"], roles=_split(v["roles"]), since=int(v["since"]), url=v.get("url", ""))
            for _line, v in _rows(sources, "contributors")
        ),
        included={d.src_uri: (d.path, d.body) for d in sources.documents if not d.path.startswith("docs/")},
        documents=tuple(
            WrittenPage(path=d.path, src_uri=d.src_uri, meta=dict(d.meta), body=d.body, is_post=d.is_post)
            for d in sources.documents
            if d.path.startswith("docs/")
        ),
        assets={
            rel.removeprefix("docs/"): rel
            for rel in sources.doc_files
            if not rel.endswith(".md") and not rel.startswith(THEME_DIR)
        },
        authors=dict(sources.authors),
        registry=sources.registry,
        texts=texts,
        package=tuple(package_files(sources)),
        bib_path=sources.bib_path,
    )
    for resource in RECORD_RESOURCES:
        for record in getattr(site, resource).values():
            for text in record.texts():
                site.texts.add(text)
    for document in sources.documents:
        site.texts.add(document.body)
    object.__setattr__(site, "cited_by", _cited_by(site))
    return site


def record_keys(record: Record, texts: ParsedTexts | None = None) -> tuple[str, ...]:
    """Return every key a record cites, inline in its text first, then from the citations table.

    Args:
        record: The record.
        texts: The model's parsed texts (without them, the record's texts are parsed here).
    """
    parsed = texts if texts is not None else ParsedTexts()
    keys: list[str] = [k for text in record.texts() for k in parsed.keys(text)]
    keys.extend(c.key for c in record.citations)
    return tuple(dict.fromkeys(keys))


def _cited_by(site: Site) -> dict[str, tuple[Citer, ...]]:
    found: dict[str, list[Citer]] = defaultdict(list)
    for essay in site.essays:
        citer = Citer(title=essay.title, url=essay_url(essay), kind="Essay")
        for key in essay.keys:
            found[key].append(citer)
    kinds = {
        "terms": "Label",
        "concepts": "Concept",
        "cases": "Case",
        "questions": "Debate",
        "arguments": "Argument",
    }
    for resource in ("terms", "concepts", "cases", "questions", "arguments"):
        for record in getattr(site, resource).values():
            citer = Citer(title=record.title, url=record.url, kind=kinds[resource])  # one per record, shared
            for key in site.texts.memo(
                ("record_keys", resource, record.id), lambda r=record: record_keys(r, site.texts)
            ):
                found[key].append(citer)
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items()}
