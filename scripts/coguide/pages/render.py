"""Render: the Jinja environment and templates that turn the site model into generated Markdown pages.

Everything here is engine-neutral: pages are plain Markdown (with a little HTML) addressed by their path
relative to the site's pages, so another static-site engine could consume the same output.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup

from coguide.cite import Bibliography, Citation, preview_id
from coguide.cite.ris import ris_lines
from coguide.errors import CATALOGUE
from coguide.links import relpath, root_link, url_for
from coguide.markup import EXCERPT_MARK, render_safe_html, render_safe_inline
from coguide.model import Argument, Essay, ParsedTexts, Record, Site, essay_url, record_keys
from coguide.offline import OFFLINE_FOLDER, OFFLINE_ZIP
from coguide.outputs import MARKER, MARKER_TEXT, OutputError, is_marked
from coguide.pages.figures import (
    FACES,
    LADDER_KEY,
    cited_works,
    claim_cite_box,
    figure_pages,
    short_markdown,
    shorten,
)
from coguide.pages.glossary import Glossary
from coguide.pages.pagecite import (
    PageCitation,
    cite_this_page,
    essay_updated,
    page_citation,
    page_key,
    print_header,
)
from coguide.pages.timeline import render_timeline_svg, timeline_events

TEMPLATES = Path(__file__).parent / "templates"
GENERATED_NOTICE = "generated; do not edit"

# Python-Markdown's escapable characters (plus the table pipe).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
_PLACEHOLDER = "\x02CITE{}\x03"
_PLACEHOLDER_RE = re.compile("\x02CITE(\\d+)\x03")


@dataclass(frozen=True, kw_only=True)
class Page:
    """One generated page.

    Attributes:
        src_uri: Path relative to the site's pages, e.g. ``terms/client.md``.
        content: The Markdown.
        source: The data file (and record) it was generated from, named in its header comment.
    """

    src_uri: str
    content: str | bytes
    source: str


def md_escape(value: object) -> Markup:
    """Escape a plain value for a Markdown context: HTML-escape it, then backslash Markdown's specials."""
    if isinstance(value, Markup):
        return value
    return Markup(_MD_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False)))


def h(value: object) -> Markup:
    """Escape a plain value for an HTML context (element text or a quoted attribute)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def code(value: object) -> Markup:
    """Render a plain value as inline code that is safe in HTML, Markdown and table cells."""
    return Markup("<code>" + html.escape(str(value), quote=True).replace("|", "&#124;") + "</code>")


def md_link(from_src: str, to_src: str) -> str:
    """Return a relative Markdown link target from one source page to another (MkDocs checks these)."""
    return relpath(to_src, posixpath.dirname(from_src) or ".")


def bibliography_href(page_url: str, link: Callable[[str], str] | None = None) -> Callable[[str], str]:
    """Return a function giving the link from `page_url` (or through `link`) to a work's bibliography entry."""
    if link is not None:
        return lambda key: link(f"bibliography/#{key}")
    return lambda key: url_for(page_url, f"bibliography/#{key}")


def render_text(
    text: str, bib: Bibliography, page_url: str, *, inline: bool = False, texts: ParsedTexts | None = None
) -> Markup:
    """Render a contributor's Markdown text to safe HTML with linked citations.

    Citations are swapped for placeholders before the Markdown is rendered (so their HTML is never
    escaped or mistaken for contributor HTML) and swapped back afterwards.

    Args:
        text: The Markdown.
        bib: The bibliography.
        page_url: The page's URL relative to the site root (citation links are relative to it).
        inline: Render one paragraph's inline content, without the paragraph.
        texts: The model's parsed texts: the text's citations are read from them, and the HTML is made once
            per site for each way of linking the bibliography (pages at the same depth share it).
    """
    if not text:
        return Markup("")
    if texts is not None:
        prefix = url_for(page_url, "bibliography/")
        # Nine texts in ten are shown on one page only (a record's own text): only a reused HTML is kept.
        return texts.memo(
            ("html", text, inline, prefix),
            lambda: _render_text(text, bib, page_url, inline, texts),
            reused_only=True,
        )
    return _render_text(text, bib, page_url, inline, None)


def _render_text(
    text: str, bib: Bibliography, page_url: str, inline: bool, texts: ParsedTexts | None
) -> Markup:
    found = (texts if texts is not None else ParsedTexts()).cites(text)
    citations = [c for c in found if all(i.key in bib for i in c.items)]
    parts: list[str] = []
    last = 0
    for n, citation in enumerate(citations):
        parts.append(text[last : citation.start])
        parts.append(_PLACEHOLDER.format(n))
        last = citation.end
    parts.append(text[last:])
    rendered = (render_safe_inline if inline else render_safe_html)("".join(parts))
    href = bibliography_href(page_url)

    def swap(match: re.Match[str]) -> str:
        return bib.format_citation(citations[int(match.group(1))], "html", href)

    return Markup(_PLACEHOLDER_RE.sub(swap, rendered))


def reference_items(keys: Iterable[str], bib: Bibliography) -> list[Markup]:
    """Return the APA reference-list entries for `keys` as HTML, in reference-list order.

    Each reference carries the id (`preview_id`) that the page's citations of its key are described by. Its
    link back to its bibliography entry is made in the browser (``cite.js``) from that id and the list's
    link to the bibliography (`reference_downloads`), rather than written out for every entry of every page.
    """
    return [
        Markup(f'<span id="{preview_id(key)}">{bib.format_reference(key, "html")}</span>')
        for key in bib.sort_keys(k for k in keys if k in bib)
    ]


#: Where each page's reference list is published as BibTeX and RIS, relative to the site root.
REFERENCES_DIR = "references"


def reference_file(page_url: str, suffix: str) -> str:
    """Return the site path of a page's reference list in one format (``references/terms-client.bib``)."""
    return f"{REFERENCES_DIR}/{page_key(page_url).removeprefix('coguide-')}.{suffix}"


def reference_downloads(
    keys: Iterable[str], bib: Bibliography, page_url: str, link_to: Callable[[str], str] | None = None
) -> Markup:
    """Return the line under a page's reference list (empty when it cites nothing).

    It offers the list as BibTeX and RIS and links to the bibliography, where each work is in full with the
    pages citing it; ``cite.js`` gives each reference its own link there from this one. Links are relative
    to `page_url`, or made by `link_to` from a path relative to the site root.
    """
    if not any(k in bib for k in keys):
        return Markup("")
    link = link_to or (lambda target: url_for(page_url, target))
    links = " · ".join(
        f'<a href="{h(link(reference_file(page_url, suffix)))}" download type="{mime}">{label}</a>'
        for suffix, label, mime in (
            ("bib", "BibTeX", "application/x-bibtex"),
            ("ris", "RIS", "application/x-research-info-systems"),
        )
    )
    bibliography = h(link("bibliography/"))
    return Markup(
        f'<p class="reference-downloads">Download these references for a reference manager: {links}. '
        f'Every work is also in the <a class="bibliography-link" href="{bibliography}">bibliography</a>.</p>'
    )


def render_ris_for(bib: Bibliography, keys: Iterable[str], texts: ParsedTexts | None = None) -> str:
    """Return some entries of the bibliography as RIS, in the order given (CRLF line ends).

    Args:
        bib: The bibliography.
        keys: The entries' keys.
        texts: The model's memo: each entry's RIS is made once per site (every page offers its own
            references as RIS, so a work cited on many pages would otherwise be formatted again for each).

    Raises:
        KeyError: A key is not in the bibliography.
    """
    memo = texts if texts is not None else ParsedTexts()
    lines: list[str] = []
    for key in keys:
        lines.extend(memo.memo(("ris", key), lambda k=key: ris_lines(k, bib.entry(k), bib.facts(k))))
        lines.append("")
    return "\r\n".join(lines)


def reference_file_pages(
    keys: Iterable[str], bib: Bibliography, page_url: str, source: str, texts: ParsedTexts | None = None
) -> list[Page]:
    """Return a page's reference list as BibTeX and RIS files (none when it cites nothing).

    `texts` is the model's memo, where each entry's RIS is made once per site.
    """
    known = bib.sort_keys(k for k in keys if k in bib)
    if not known:
        return []
    bibtex = "\n\n".join(bib.bibtex(k).strip() for k in known) + "\n"
    return [
        Page(src_uri=reference_file(page_url, "bib"), content=bibtex, source=source),
        Page(
            src_uri=reference_file(page_url, "ris"), content=render_ris_for(bib, known, texts), source=source
        ),
    ]


def _yaml(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class CompiledTemplates(BytecodeCache):
    """The templates' compiled code, kept in memory from one run of a generator to the next.

    Jinja compiles every template again for each environment, and each run of the generator makes one (its
    filters read that run's model); with this, a run after an edit loads the code instead. Jinja checks each
    template's source against the code's checksum, so an edited template is compiled again.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill `bucket` with the code kept for its template, if any."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code of a template just compiled."""
        self._code[bucket.key] = bucket.bytecode_to_string()


def make_environment(site: Site, compiled: CompiledTemplates | None = None) -> Environment:
    """Create the Jinja environment: strict undefined, HTML autoescaping, Markdown-escaping finalize.

    Args:
        site: The model the filters read.
        compiled: Templates compiled by an earlier run, to load rather than compile again.
    """
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=compiled,
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("jinja",), default=True),
        finalize=md_escape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["h"] = h
    env.filters["code"] = code
    env.filters["yaml"] = lambda v: Markup(_yaml(str(v)))
    env.filters["md_link"] = lambda to, frm: Markup(md_link(frm, to))
    env.filters["url_for"] = lambda to, frm: Markup(h(url_for(frm, to)))
    bib, texts, plain = site.bibliography, site.texts, site_plain_text(site)
    env.filters["text"] = lambda v, page_url: render_text(v, bib, page_url, texts=texts)
    env.filters["inline"] = lambda v, page_url: render_text(v, bib, page_url, inline=True, texts=texts)
    env.filters["plain"] = plain
    env.filters["first_sentence"] = first_sentence
    env.filters["shorten"] = shorten
    env.filters["short_md"] = lambda v, limit: texts.memo(
        ("short_md", v, limit), lambda: short_markdown(v, limit, plain)
    )
    env.filters["cell"] = lambda v, page_url: table_cell(v, bib, page_url, texts)
    env.filters["pandoc_item"] = lambda c: f"@{c.key}, {c.locator}" if c.locator else f"@{c.key}"
    env.globals["proponent_citation"] = lambda argument: proponent_citation(site, argument)
    env.globals["site"] = site
    env.globals["cite_keys"] = lambda text: cited_works(texts.cites(text))
    env.globals["cite_claim"] = lambda **kw: claim_cite_box(site, **kw)
    env.globals["notice"] = GENERATED_NOTICE
    env.globals["cite_this_page"] = lambda **kw: cite_this_page(site, **kw)
    env.globals["print_header"] = lambda **kw: print_header(site, **kw)
    env.globals["records"] = lambda resource, ids: [site.record(resource, i) for i in ids]
    env.globals["references"] = lambda keys: reference_items(keys, site.bibliography)
    env.globals["reference_downloads"] = lambda keys, page_url: reference_downloads(
        keys, site.bibliography, page_url
    )
    return env


def site_plain_text(site: Site) -> Callable[[str], str]:
    """Return `plain_text` with the site's bibliography, made once per text for the whole site."""
    bib, texts = site.bibliography, site.texts
    return lambda value: texts.memo(("plain", value), lambda: plain_text(value, bib, texts.cites(value)))


def plain_text(
    value: str, bib: Bibliography | None = None, citations: Iterable[Citation] | None = None
) -> str:
    """Strip Markdown from a text, for hover titles, tables and descriptions.

    With a bibliography, citations become plain author-date text ("(Booth, 2019)", "Booth (2019)");
    without one, bracketed citations are dropped. `citations` are the text's, when the model has parsed them.
    """
    if bib is not None:
        value = bib.render_text(value, "text", citations=citations)[0]
    bare = re.sub(r"\[[^\[\]]*@[^\]]*\]", "", value)
    bare = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", bare)
    bare = re.sub(r"[*_`]", "", bare)
    bare = re.sub(r"\s+([.,;:!?)])", r"\1", " ".join(bare.split()))
    return bare.strip()


def first_sentence(value: str, shortest: int = 40) -> str:
    """Return a text's first sentence (at least `shortest` characters), for comparison tables."""
    for match in re.finditer(r"[.?!](?=\s+[A-Z(])", value):
        if match.end() >= shortest:
            return value[: match.end()]
    return value


_ATTRIBUTE_CHAR = re.compile(r"[\w-]")
#: An in-text citation (`Bibliography.format_citation`): a link whose fragment is the cited key. One in a part shown
#: on other pages too (an essay's excerpt) also names the element that describes it (see `cite_previews`).
_CITE_LINK = re.compile(r'<a class="cite" href="[^"#]*#([^"]*)"(?: aria-describedby="([^"]*)")?>')


def cited_keys(content: str, scope: str = "") -> list[str]:
    """Return the keys a page's citations are described by, in first-cited order (see `cite_previews`).

    Without a `scope`, the keys of the citations that name no describing element (``cite-{key}`` by their
    fragment); with one, those of the citations described by ``{scope}cite-{key}``.
    """
    prefix = f"{h(scope)}cite-"
    keys = []
    for match in _CITE_LINK.finditer(content):
        described = match.group(2)
        if not scope and described is None:
            keys.append(html.unescape(match.group(1)))
        elif scope and described is not None and described.startswith(prefix):
            keys.append(html.unescape(described[len(prefix) :]))
    return list(dict.fromkeys(keys))


def cite_previews(content: str, bib: Bibliography, scope: str = "") -> str:
    """Add to a page, once, the reference of every cited key that its reference list does not already hold.

    A citation is a link to its bibliography entry, the key its fragment. It is described by one element
    per key (``cite-{key}``): the reference in the page's reference list when it has one, else an entry of
    a list of previews added here at the end of the page, hidden from view and from search. In the browser,
    ``cite.js`` makes that element the link's description (``aria-describedby``) and fills the hover/focus
    preview from it. With a `scope` (``"{scope}cite-{key}"``), the citations of a part shown on other pages
    too (an essay's excerpt), which name their element themselves, get a list of their own, with ids no
    other part of those pages uses.
    """
    prefix = f"{scope}cite-"
    described = cited_keys(content, scope)
    if not described:
        return content
    # An attribute named exactly ``id`` (not ``data-id``): the character before it is checked by hand, since a
    # look-behind in the pattern made the search four times as slow on a long page.
    present = {
        html.unescape(match.group(1))
        for match in re.finditer(f'id="{re.escape(h(prefix))}([^"]+)"', content)
        if match.start() == 0 or not _ATTRIBUTE_CHAR.match(content, match.start() - 1)
    }
    missing = [key for key in described if key not in present and key in bib]
    if not missing:
        return content
    entries = "\n".join(
        f'<span id="{h(scope)}{preview_id(key)}">{_inert_markdown(bib.preview(key))}</span>'
        for key in missing
    )
    hidden = f'<div class="cite-previews" hidden data-search-exclude="true" markdown="0">\n{entries}\n</div>'
    return f"{content.rstrip()}\n\n{hidden}\n"


_LISTED = re.compile(r'<li><span id="cite-([^"]+)">')
_BIBLIOGRAPHY_LINK = re.compile(r'<a class="bibliography-link" href="([^"#]*)')
_BACKLINK = (
    ' <a class="ref-backlink" href="{}#{}" aria-label="In the bibliography" title="In the bibliography">↗</a>'
)


def link_uncited_references(content: str) -> str:
    """Link to its bibliography entry each reference of a page's list that no citation on the page links to.

    Every work a page lists is linked to its entry on the page, scripts or not: most by their citations,
    the rest (a source cited by the record as a whole, in ``citations.csv``) by an arrow written here.
    ``cite.js`` adds the same arrow to the others.
    """
    start = content.find('<ol class="reference-list">')
    end = content.find("</ol>", start)
    bibliography = _BIBLIOGRAPHY_LINK.search(content, end) if start >= 0 and end >= 0 else None
    if bibliography is None:
        return content
    cited = {match.group(1) for match in _CITE_LINK.finditer(content)}
    listed = content[start:end]
    uncited = [key for key in _LISTED.findall(listed) if key not in cited]
    if not uncited:
        return content
    # The arrow goes at the end of the entry, before its </li> (a reference holds no list item of its own).
    parts, last = [], 0
    for match in _LISTED.finditer(listed):
        if match.group(1) in uncited:
            close = listed.index("</li>", match.end())
            parts += [listed[last:close], _BACKLINK.format(bibliography.group(1), match.group(1))]
            last = close
    parts.append(listed[last:])
    return content[:start] + "".join(parts) + content[end:]


def _render(env: Environment, template: str, src_uri: str, source: str, **context: Any) -> Page:
    url = src_uri.removesuffix(".md").removesuffix("index") + ("" if src_uri.endswith("index.md") else "/")
    content = env.get_template(template).render(page_url=url, src_uri=src_uri, source=source, **context)
    content = link_uncited_references(cite_previews(content, env.globals["site"].bibliography))
    return Page(src_uri=src_uri, content=content, source=source)


@dataclass(frozen=True, kw_only=True)
class PageJob:
    """A unit of rendering: the pages it makes, and what in the model they depend on.

    Attributes:
        key: A name unique among a site's jobs and stable between runs (``terms/client.md``).
        depends: What the pages show, as change tokens: ``terms:client`` for one record (see
            `record_depends`), ``kind:terms`` for any label (added, removed, edited or moved), ``ref:needham2008``
            for one work, ``reference-list`` for the works' keys and order, ``references`` for any work, ``cited_by`` for the bibliography's back-links,
            ``counts`` for how many records and works there are, ``essays`` for any essay, ``glossary`` and
            ``glossary:terms/client.md`` for the glossary's entries, ``doc:about.md`` for one hand-written
            page, ``file:datapackage/terms.csv`` for one input file, ``package`` for any data-package file,
            ``contributors``. Anything no token names (the templates, the descriptor, the engine configuration,
            the site's name, address and source dates) changes every page.
        make: Renders the pages.
        beside: Most of the work is done by C code that lets other threads run (compression), so the build
            may start the job in a thread of its own before the others and collect its pages in their turn.
    """

    key: str
    depends: frozenset[str]
    make: Callable[[], list[Page]]
    beside: bool = False


#: The record lists a page shows beside a record, and the resource each list names.
_LINK_FIELDS = (
    ("concepts", "concepts"),
    ("related", "concepts"),
    ("narrower", "concepts"),
    ("terms", "terms"),
    ("cases", "cases"),
    ("arguments", "arguments"),
)


def record_depends(site: Site, record: Record) -> frozenset[str]:
    """Return what a record's page depends on: the record, the records it links to and shows, the works cited.

    Tokens are ``<resource>:<id>`` for records and ``ref:<key>`` for works; every work cited by the record,
    by the summaries of its linked records and by its arguments counts, whether or not the page shows it.
    """
    tokens = {f"{record.resource}:{record.id}"}
    shown: list[Record] = [record]
    broader = getattr(record, "broader", None)
    if broader:
        tokens.add(f"concepts:{broader}")
    for name, resource in _LINK_FIELDS:
        for item_id in getattr(record, name, ()) or ():
            tokens.add(f"{resource}:{item_id}")
            item = getattr(site, resource).get(item_id)
            if item is not None:
                shown.append(item)
    for item in shown:
        tokens.update(f"ref:{key}" for key in site_record_keys(site, item))
    return frozenset(tokens)


def render_site(site: Site) -> list[Page]:
    """Render every generated page of the site.

    Returns:
        The pages in a stable order.
    """
    return [page for job in page_jobs(site) for page in job.make()]


def page_jobs(site: Site, env: Environment | None = None) -> list[PageJob]:
    """Return the jobs that render every generated page of the site, in a stable order (see `PageJob`).

    Nothing is rendered until a job's `make` is called, so a generator that kept its last run can render only
    the jobs whose dependencies changed.
    """
    env = env or make_environment(site)
    jobs: list[PageJob] = []
    bib = site.bibliography

    def cited(*kinds: str) -> frozenset[str]:
        """Return the tokens of pages that show every record of some kinds: the kinds and the works they cite."""
        keys = {
            key
            for kind in kinds
            for record in getattr(site, kind).values()
            for key in site_record_keys(site, record)
        }
        tokens = {f"kind:{kind}" for kind in kinds} | {f"ref:{key}" for key in keys}
        return frozenset({*tokens, "reference-list"})

    def shown(kind: str, *fields: str) -> set[str]:
        """Return the tokens of a page that shows some fields of every record of a kind.

        They are the kind, the works' keys and order, and the works cited in those fields: a work cited only in
        a field the page does not show cannot change it.
        """
        keys = {
            key
            for record in getattr(site, kind).values()
            for name in fields
            for key in site.texts.keys(getattr(record, name) or "")
        }
        return {f"kind:{kind}", "reference-list", *(f"ref:{key}" for key in keys)}

    def job(key: str, depends: Iterable[str], make: Callable[[], list[Page]]) -> None:
        jobs.append(PageJob(key=key, depends=frozenset(depends), make=make))

    def render_one(*args: Any, **context: Any) -> Callable[[], list[Page]]:
        return lambda: [_render(env, *args, **context)]

    for resource, template in (("terms", "term"), ("concepts", "concept"), ("cases", "case")):
        for record in getattr(site, resource).values():

            def record_pages(record: Record = record, template: str = template) -> list[Page]:
                source = f"{record.source_path} (id: {record.id})"
                keys = record_page_keys(site, record)
                return [
                    *reference_file_pages(keys, bib, record.url, source, site.texts),
                    _render(env, f"{template}.md.jinja", record.src_uri, source, record=record, keys=keys),
                ]

            job(record.src_uri, record_depends(site, record), record_pages)
    # The indexes and the glossary show a few fields of each record (their templates say which).
    job(
        "terms/index.md",
        shown("terms", "relationship", "power", "main_critique"),
        render_one("terms_index.md.jinja", "terms/index.md", "datapackage/terms.csv"),
    )
    job(
        "concepts/index.md",
        shown("concepts", "summary"),
        render_one("concepts_index.md.jinja", "concepts/index.md", "datapackage/concepts.csv"),
    )
    job(
        "cases/index.md",
        ("kind:cases",),  # titles, years, places and kinds: no text that cites
        render_one("cases_index.md.jinja", "cases/index.md", "datapackage/cases.csv"),
    )
    debates = cited("questions", "arguments")
    debate_keys = [
        k for r in [*site.questions.values(), *site.arguments.values()] for k in site_record_keys(site, r)
    ]
    job(
        "references/debates",
        debates,
        lambda: reference_file_pages(
            debate_keys, bib, "debates/", "datapackage/questions.csv and arguments.csv", site.texts
        ),
    )
    for essay in site.essays:
        job(
            f"references/{essay.src_uri}",
            ("essays", *(f"ref:{key}" for key in essay.keys)),
            lambda essay=essay: reference_file_pages(
                essay.keys, bib, essay_url(essay), essay.path, site.texts
            ),
        )
    job(
        "debates/index.md",
        debates,
        render_one(
            "debates.md.jinja",
            "debates/index.md",
            "datapackage/questions.csv and arguments.csv",
            keys=tuple(dict.fromkeys(debate_keys)),
        ),
    )
    # The bibliography lists every page that cites each work, essays included.
    job(
        "bibliography/index.md",
        ("references", "cited_by"),
        render_one("bibliography.md.jinja", "bibliography/index.md", "datapackage/references.bib"),
    )
    job(
        "glossary/index.md",
        shown("terms", "definition") | shown("concepts", "summary"),
        lambda: [
            _render(
                env,
                "glossary.md.jinja",
                "glossary/index.md",
                "datapackage/terms.csv and concepts.csv",
                entries=glossary_entries(site),
            )
        ],
    )
    job(
        "index.md",
        ("counts", "essays"),
        render_one(
            "home.md.jinja",
            "index.md",
            "docs/blog/posts and datapackage/",
            essays=site.essays[:5],
            essay_url=essay_url,
        ),
    )

    def timeline() -> list[Page]:
        events = timeline_events(site)
        svg = render_timeline_svg(events)
        return [
            _render(
                env,
                "timeline.md.jinja",
                "timeline/index.md",
                "datapackage/terms.csv and cases.csv",
                events=events,
                svg=Markup(svg),
            )
        ]

    job("timeline/index.md", cited("terms", "cases"), timeline)
    # The figures show every label and case, the concepts of the faces of power and the ladder, and cite two
    # works by key.
    shown = [site.concepts[i] for i in (*FACES, "ladder-of-participation") if i in site.concepts]
    figures = cited("terms", "cases") | {
        *(f"concepts:{i}" for i in (*FACES, "ladder-of-participation")),
        *(f"ref:{key}" for concept in shown for key in site_record_keys(site, concept)),
        f"ref:{LADDER_KEY}",
        "ref:mclaughlin2009",
    }
    job(
        "figures",
        figures,
        lambda: [
            _render(env, template, src_uri, source, **context)
            for template, src_uri, source, context in figure_pages(site, site_plain_text(site))
        ],
    )
    zip_url = site.info.url + OFFLINE_ZIP if site.info.url else url_for("offline/", OFFLINE_ZIP)
    job(
        "offline/index.md",
        (),
        render_one(
            "offline.md.jinja",
            "offline/index.md",
            "coguide/offline.py",
            zip_url=zip_url,
            folder=OFFLINE_FOLDER,
        ),
    )
    job("feed.xml", ("essays",), lambda: [render_feed(env, site)])
    job(
        "contributors/index.md",
        ("contributors",),
        render_one(
            "contributors.md.jinja",
            "contributors/index.md",
            "datapackage/contributors.csv",
            contributors=site.contributors,
        ),
    )
    for src_uri, (path, body) in site.included.items():
        # Checked like every page (no raw HTML, safe links), so its Markdown is passed on as it is.
        job(
            src_uri,
            (f"doc:{src_uri}",),
            render_one(
                "contributing.md.jinja",
                src_uri,
                path,
                title="Contributing",
                description="How to add or correct a label, concept, case, argument, reference or essay.",
                edit_path=path,
                body=Markup(body),
            ),
        )
    job(
        "contributing/errors.md",
        (),
        render_one(
            "errors.md.jinja",
            "contributing/errors.md",
            "coguide/errors.py",
            catalogue=list(CATALOGUE.values()),
        ),
    )
    job(
        "developers/data-dictionary.md",
        (),
        render_one(
            "data_dictionary.md.jinja",
            "developers/data-dictionary.md",
            "datapackage/datapackage.json",
            resources=site.descriptor.get("resources", []),
        ),
    )
    return jobs


@dataclass(frozen=True, kw_only=True)
class GlossaryEntry:
    """One line of the glossary page: a label or a concept, what it is, and the text its definition comes from."""

    record: Record
    kind: str
    text: str


def glossary_entries(site: Site) -> list[GlossaryEntry]:
    """Return every label and concept, A to Z by title, with the text its short definition is taken from."""
    entries = [GlossaryEntry(record=t, kind="label", text=t.definition) for t in site.terms.values()]
    entries += [GlossaryEntry(record=c, kind="concept", text=c.summary) for c in site.concepts.values()]
    return sorted(entries, key=lambda e: (e.record.title.casefold(), e.kind))


def render_feed(env: Environment, site: Site) -> Page:
    """Render the essays' Atom feed (``feed.xml``); its ids are tag URIs, stable whatever the host."""
    latest = site.essays[0].date.isoformat() if site.essays else "1970-01-01"
    feed_env = env.overlay(autoescape=False, finalize=None)
    content = feed_env.get_template("feed.xml.jinja").render(
        feed_id="tag:coguide,2026:feed",
        entry_id=lambda e: f"tag:coguide,2026:{essay_url(e).rstrip('/')}",
        essay_url=essay_url,
        updated=f"{latest}T00:00:00Z",
    )
    return Page(src_uri="feed.xml", content=content, source="docs/blog/posts")


def write_pages(pages: Iterable[Page], out_dir: Path, *, keep: Iterable[str] = ()) -> list[str]:
    """Write generated pages as they come, touching only files whose content changed, and delete the stale ones.

    Pages are written one by one as the iterable yields them (a generator that renders them is never held
    whole in memory). The folder's marker file lists what the last run wrote; only those files are ever
    deleted, so a file the generator did not write survives (and is not published). A page whose path would
    leave `out_dir`, by ``..``, an absolute path or a symlinked folder inside `out_dir`, is refused, and
    nothing more is written; the marker then still lists every file a run wrote, so none is taken for a stray.

    Args:
        pages: The pages, in any order.
        out_dir: The generated-pages folder.
        keep: Files written by an earlier run that this run did not render but still wants (an incremental
            run); they are neither rewritten nor deleted. It is read once every page is written, so the
            code yielding `pages` may add to it as it goes.

    Returns:
        The src_uris of the pages written (new or changed).

    Raises:
        OutputError: A page's path leaves `out_dir`.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir.resolve()
    previous = _previous_files(out_dir)
    written: list[str] = []
    wanted: set[str] = set()
    finished = False
    try:
        for page in pages:
            changed = write_page(page, out_dir, base)
            wanted.add(page.src_uri)
            if changed:
                written.append(page.src_uri)
        wanted.update(keep)
        finished = True
    finally:
        # Cut short, the run deletes nothing and the marker lists what either run wrote.
        listed = wanted if finished else wanted | previous
        if finished:
            for uri in sorted(previous - wanted):
                path = out_dir / uri
                if path.parent.is_dir() and path.parent.resolve().is_relative_to(base) and not path.is_dir():
                    path.unlink(missing_ok=True)
        _write_marker(out_dir, listed)
    return written


def write_page(page: Page, out_dir: Path, base: Path, before: Callable[[str], None] | None = None) -> bool:
    """Write one generated page into `out_dir` unless the file already holds its content; the marker is not touched.

    Args:
        page: The page.
        out_dir: The generated-pages folder.
        base: `out_dir` resolved.
        before: Called with the page's path just before the file is written.

    Returns:
        True when the file was written (new or changed).

    Raises:
        OutputError: The page's path leaves `out_dir` (by ``..``, an absolute path or a symlinked folder).
    """
    if not _is_inside(page.src_uri):
        raise OutputError(
            f"the generated page {page.src_uri!r} would be written outside {out_dir}: fix the id it comes from"
        )
    path = out_dir / page.src_uri
    data = page.content.encode("utf-8") if isinstance(page.content, str) else page.content
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        return False
    _refuse_symlinked_parent(path, base, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    if before is not None:
        before(page.src_uri)
    if path.is_symlink():
        path.unlink()
    path.write_bytes(data)
    return True


def add_to_marker(out_dir: Path, names: Iterable[str]) -> None:
    """List more files in the folder's marker as written by the generator (files a run cut short wrote)."""
    _write_marker(out_dir, _previous_files(out_dir) | {name for name in names if _is_inside(name)})


def _write_marker(out_dir: Path, listed: Iterable[str]) -> None:
    """Write the folder's marker, listing `listed` as the files the generator wrote there."""
    (out_dir / MARKER).write_text(
        MARKER_TEXT + "".join(f"{uri}\n" for uri in sorted(listed)), encoding="utf-8"
    )


def _is_inside(uri: str) -> bool:
    """Return True for a relative path that stays inside its folder (no ``..``, no absolute path, no backslash)."""
    parts = PurePosixPath(uri).parts
    return (
        bool(parts)
        and not uri.startswith("/")
        and "\\" not in uri
        and not any(p in ("..", ".") for p in parts)
    )


def _refuse_symlinked_parent(path: Path, base: Path, out_dir: Path) -> None:
    existing = next(folder for folder in path.parents if folder.exists())
    if not existing.resolve().is_relative_to(base):
        raise OutputError(
            f"{existing} leads out of {out_dir} (a symlink), so a generated page would be written elsewhere: "
            f"delete {out_dir} (the build makes it again)"
        )


def _previous_files(out_dir: Path) -> set[str]:
    """Return what the last run wrote in `out_dir`: the marker's list, or every file of a folder built without one."""
    marker = out_dir / MARKER
    if marker.is_file():
        lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
        return {line for line in lines if _is_inside(line)}
    if is_marked(out_dir, "generated"):
        return {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
    return set()


def render_document(
    markdown: str,
    page_url: str,
    site: Site,
    *,
    src_uri: str = "",
    glossary: Glossary | None = None,
    root_links: bool = False,
) -> str:
    """Render a hand-written page's Markdown: glossary links, linked citations and its reference list.

    Args:
        markdown: The page's Markdown (front matter already removed).
        page_url: The page's URL relative to the site root, for relative links in HTML.
        site: The site model.
        src_uri: The page's source path, for glossary links in Markdown (which the engine checks).
        glossary: Link the first mention of each label and concept (essays only).
        root_links: Write links in HTML as `root_link`s, for a text also shown on other pages (an essay's
            excerpt); the engine makes them relative per page with `resolve_root_links`.

    Returns:
        Markdown with citations as inline HTML and a "References" section when anything is cited.
    """
    bib = site.bibliography
    link_to = root_link if root_links else None
    # The citations the model parsed; glossary links move them, and the text is not parsed again.
    citations = site.texts.cites(markdown)
    if glossary is not None:
        linked = glossary.link_first_mentions(
            markdown, lambda entry: md_link(src_uri, entry.src_uri), citations
        )
        markdown, citations = linked.text, linked.citations(citations)
    rendered, keys = bib.render_text(
        markdown, "html", bibliography_href(page_url, link_to), citations=citations
    )
    rendered = _CITE_ITEM.sub(lambda m: _inert_markdown(m.group(0)), rendered)
    # The blog shows an essay's excerpt on its index pages without the reference list: the excerpt holds
    # the references its own citations are described by, and its citations name them.
    excerpt, mark, rest = rendered.partition(EXCERPT_MARK)
    if mark and _CITE_LINK.search(excerpt):
        # Scoped by the essay's file name: two excerpts on one index page may cite the same work.
        scope = f"{PurePosixPath(src_uri or page_url.rstrip('/')).stem}-"

        def described(m: re.Match[str]) -> str:
            if m.group(2) is not None:
                return m.group(0)
            key = html.unescape(m.group(1))
            return f'{m.group(0)[:-1]} aria-describedby="{h(scope)}{preview_id(key)}">'

        excerpt = _CITE_LINK.sub(described, excerpt)
        rendered = f"{cite_previews(excerpt, bib, scope).rstrip()}\n\n{mark}{rest}"
    known = [k for k in keys if k in bib]
    if known:
        items = "\n".join(f"<li>{item}</li>" for item in reference_items(known, bib))
        downloads = reference_downloads(known, bib, page_url, link_to)
        rendered = f'{rendered.rstrip()}\n\n## References\n\n<ol class="reference-list">\n{items}\n</ol>\n\n{downloads}\n'
        rendered = link_uncited_references(rendered)
    essay = next((e for e in site.essays if e.src_uri == src_uri), None)
    if essay is not None:
        cite = {"title": essay.title, "url": page_url, "source": essay.path, "essay": essay}
        header = print_header(site, **cite)
        rendered = _TITLE.sub(lambda m: f"{m.group(0)}\n{header}\n", rendered, count=1)
        rendered = f"{rendered.rstrip()}\n\n{cite_this_page(site, **cite)}\n"
    return rendered


_TITLE = re.compile(r"^# .*\n", re.MULTILINE)
_CITE_ITEM = re.compile(r'<a class="cite" [^>]*>.*?</a>', re.DOTALL)
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_MD_ACTIVE = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]{}"})


def _inert_markdown(fragment: str) -> str:
    """Make the text of an inline HTML fragment inert to a second Markdown pass.

    Citations in hand-written pages are inline HTML that the engine's Markdown parser reads again, so
    Markdown syntax inside a reference (a title with ``[x](javascript:...)``) must not become markup.
    """
    parts = _TAG_OR_TEXT.split(fragment)
    return "".join(part if part.startswith("<") else part.translate(_MD_ACTIVE) for part in parts)


def make_glossary(site: Site) -> Glossary:
    """Return the glossary of a site's labels and concepts."""
    return Glossary(site, site_plain_text(site))


#: Generated pages that are not records but are cited as entries in the guide: (title, dating source).
_CITED_PAGES = {
    "debates/index.md": ("Debates", "datapackage/arguments.csv"),
    "timeline/index.md": ("Timeline", "datapackage/cases.csv"),
    "bibliography/index.md": ("Bibliography", "datapackage/references.bib"),
}


def citation_for(
    site: Site, src_uri: str, owners: Mapping[str, Record | Essay] | None = None
) -> tuple[str, PageCitation, Essay | None] | None:
    """Return the title, citation and essay (if any) of the page built from `src_uri`; None for uncited pages.

    `owners` maps each record's and essay's page to it (see `tree.page_owners`); without it they are searched.
    """
    if owners is None:
        found: dict[str, Record | Essay] = {}
        for resource in ("terms", "concepts", "cases"):
            found |= {r.src_uri: r for r in getattr(site, resource).values() if r.src_uri == src_uri}
        owners = found | {e.src_uri: e for e in site.essays if e.src_uri == src_uri}
    owner = owners.get(src_uri)
    if isinstance(owner, Essay):
        url = essay_url(owner)
        return (
            owner.title,
            page_citation(site, title=owner.title, url=url, source=owner.path, essay=owner),
            owner,
        )
    if owner is not None:
        cite = page_citation(site, title=owner.title, url=owner.url, source=owner.source_path)
        return owner.title, cite, None
    if src_uri in _CITED_PAGES:
        title, source = _CITED_PAGES[src_uri]
        url = src_uri.removesuffix("index.md")
        return title, page_citation(site, title=title, url=url, source=source), None
    return None


def citation_meta(
    site: Site, src_uri: str, owners: Mapping[str, Record | Essay] | None = None
) -> list[tuple[str, str]]:
    """Return the Highwire Press ``citation_*`` meta tags (name, content) that reference managers read.

    Zotero's connector and Google Scholar read these: an essay is a post by its authors with its publication
    date; any other page is an entry (``citation_inbook_title``) in the guide. Values are plain text; the
    template escapes them. `owners` is as for `citation_for`.
    """
    found = citation_for(site, src_uri, owners)
    if found is None:
        return []
    title, cite, essay = found
    tags = [("citation_title", title)]
    tags += [("citation_author", name) for name in cite.authors]
    if cite.date:
        date = cite.date.replace("-", "/") if essay is not None else cite.date[:4]
        tags.append(("citation_publication_date", date))
    if essay is not None:
        updated = essay_updated(site, essay)
        if updated:
            tags.append(("citation_online_date", updated.replace("-", "/")))
    else:
        tags.append(("citation_inbook_title", cite.container))
    if cite.publisher:
        tags.append(("citation_publisher", cite.publisher))
    tags.append(("citation_language", "en"))
    if cite.absolute:
        tags.append(("citation_public_url", cite.url))
        tags.append(("citation_fulltext_html_url", cite.url))
    return tags


def proponent_keys(site: Site, argument: Argument) -> tuple[str, ...]:
    """Return the works an argument cites whose author and year its proponent names ("Ostrom (1996)")."""
    return site.texts.memo(("proponent_keys", argument.id), lambda: _proponent_keys(site, argument))


def _proponent_keys(site: Site, argument: Argument) -> tuple[str, ...]:
    bib, plain = site.bibliography, site_plain_text(site)
    named = " ".join(argument.proponent.split())
    return tuple(k for k in site_record_keys(site, argument) if k in bib and plain(f"@{k}") in named)


def site_record_keys(site: Site, record: Record) -> tuple[str, ...]:
    """Return `record_keys` of a record of the site, from its parsed texts, once per record."""
    return site.texts.memo(
        ("record_keys", record.resource, record.id), lambda: record_keys(record, site.texts)
    )


def proponent_citation(site: Site, argument: Argument) -> str:
    """Return an argument's proponents as one Pandoc citation ("[@ostrom1996; @strokosch2013]"), or ""."""
    keys = proponent_keys(site, argument)
    return f"[{'; '.join('@' + k for k in keys)}]" if keys else ""


#: The record lists a record page shows, each with the text shown beside each linked record.
_LINKED_LISTS = ("concepts", "related", "terms", "cases")


def record_page_keys(site: Site, record: Record) -> tuple[str, ...]:
    """Return every work a record's page cites: its own, its linked records' summaries and its debates' proponents."""
    return site.texts.memo(
        ("record_page_keys", record.resource, record.id), lambda: _record_page_keys(site, record)
    )


def _record_page_keys(site: Site, record: Record) -> tuple[str, ...]:
    keys = list(site_record_keys(site, record))
    for name in _LINKED_LISTS:
        resource = "concepts" if name == "related" else name
        for item_id in getattr(record, name, ()) or ():
            item = site.record(resource, item_id)
            text = getattr(item, "summary", None) or getattr(item, "definition", "")
            keys.extend(site.texts.keys(text))
    for arg_id in getattr(record, "arguments", ()) or ():
        keys.extend(proponent_keys(site, site.record("arguments", arg_id)))
    return tuple(k for k in dict.fromkeys(keys) if k in site.bibliography)


def table_cell(text: str, bib: Bibliography, page_url: str, texts: ParsedTexts | None = None) -> Markup:
    """Render a short Markdown text (with linked citations) as HTML that is safe inside a Markdown table cell."""
    rendered = render_text(text, bib, page_url, inline=True, texts=texts)
    # The engine reads the table as Markdown again: every text node is made inert, not only the citations
    # (a reference-style link left as text, "[x][y]", would otherwise become a link or a cross-reference).
    rendered = _inert_markdown(str(rendered))
    return Markup(rendered.replace("|", "&#124;").replace("\n", " "))
