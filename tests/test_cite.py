"""Tests for the cite stage: Pandoc citation parsing, .bib problems, APA 7 citations and references.

Golden files live in tests/golden/cite/. Regenerate them with

    COGUIDE_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_cite.py

and review the diff like code.
"""

from __future__ import annotations

import difflib
import os
import random
import re
from pathlib import Path

import pytest

from coguide.cite import (
    BIBLIOGRAPHY_PROBLEM_CODES,
    Bibliography,
    BibliographyProblem,
    Citation,
    CiteItem,
    find_citations,
)

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "cite"
GOLDEN = HERE / "golden" / "cite"
FORMATS = ("text", "markdown", "html")
SUFFIX = {"text": "txt", "markdown": "md", "html": "html"}


def assert_golden(relative: str, actual: str) -> None:
    """Compare with a golden file; COGUIDE_REGEN_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / relative
    if os.environ.get("COGUIDE_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run COGUIDE_REGEN_GOLDEN=1 pytest to create it")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"golden/cite/{relative}",
            tofile="actual",
        )
        pytest.fail("golden mismatch (COGUIDE_REGEN_GOLDEN=1 to accept):\n" + "".join(diff), pytrace=False)


@pytest.fixture(scope="module")
def bibliography() -> Bibliography:
    return Bibliography.from_file(FIXTURES / "references.bib")


def parse(text: str) -> tuple[Bibliography, list[tuple[int, str, str | None]]]:
    bib, problems = Bibliography.parse(text)
    return bib, [(problem.line, problem.code, problem.key) for problem in problems]


# --------------------------------------------------------------------------- references (golden)


@pytest.mark.parametrize("fmt", FORMATS)
def test_reference_list_golden(bibliography: Bibliography, fmt: str) -> None:
    references = bibliography.reference_list(fmt=fmt)  # type: ignore[arg-type]
    assert_golden(f"references.{SUFFIX[fmt]}", "\n".join(references) + "\n")


def test_fixture_has_no_problems() -> None:
    _, problems = Bibliography.parse((FIXTURES / "references.bib").read_text(encoding="utf-8"))
    assert problems == []


# --------------------------------------------------------------------------- in-text (golden)

CITATION_FORMS = {
    "one-author-with-page": "[@needham2008, p. 224]",
    "two-authors": "[@brudney1983]",
    "two-authors-narrative": "@brudney1983 argue",
    "three-or-more-authors": "[@pykett2010]",
    "group-author": "[@nef2008]",
    "several-sorted-and-collapsed": (
        "[@needham2008; @edmiston-fixture-poverty; @brudney1983; @edmiston-fixture-coauthored; "
        "@edmiston-fixture-attitudes]"
    ),
    "no-date": "[@owen-fixture-nd]",
    "prefix": "[see @needham2008, p. 5]",
    "suppress-author": "[-@needham2008, p. 5]",
    "narrative-with-locator": "@needham2008 [p. 224]",
    "page-range": "[@needham2008, pp. 3-4]",
    "bare-page-number": "[@needham2008, 33-35]",
    "suffix": "[@needham2008, p. 5, emphasis added]",
    "legislation": "[@childrenact2004] and @childrenact2004",
    "no-author-title": "[@fixture-manuscript] and @fixture-manuscript",
    "edited-book": "[@barnes2011]",
    "same-author-same-year-full-date": "[@fixture-blog; @fixture-webpage]",
    "unknown-key": "[@needham2008; @nobody1999] and @nobody1999",
}


@pytest.mark.parametrize("form", sorted(CITATION_FORMS))
def test_intext_golden(bibliography: Bibliography, form: str) -> None:
    source = CITATION_FORMS[form]
    lines = [f"source: {source}"]
    for fmt in FORMATS:
        rendered, _ = bibliography.render_text(source, fmt)  # type: ignore[arg-type]
        lines.append(f"{fmt}: {rendered}")
    assert_golden(f"intext/{form}.txt", "\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[@needham2008, p. 224]", "(Needham, 2008, p. 224)"),
        ("[@brudney1983]", "(Brudney & England, 1983)"),
        ("@brudney1983", "Brudney and England (1983)"),
        ("[@pykett2010]", "(Pykett et al., 2010)"),
        ("[@nef2008]", "(New Economics Foundation, 2008)"),
        ("[see @needham2008, p. 5]", "(see Needham, 2008, p. 5)"),
        ("[-@needham2008, p. 5]", "(2008, p. 5)"),
        ("@needham2008 [p. 224]", "Needham (2008, p. 224)"),
        ("[@needham2008, pp. 3-4]", "(Needham, 2008, pp. 3–4)"),
        ("[@owen-fixture-nd]", "(Owen, n.d.)"),
        ("[@childrenact2004]", "(Children Act 2004)"),
        ("[@edmiston-fixture-poverty; @edmiston-fixture-attitudes]", "(Edmiston, 2017a, 2017b)"),
        (
            "[@edmiston-fixture-coauthored; @edmiston-fixture-poverty]",
            "(Edmiston, 2017b; Edmiston & Example, 2017)",
        ),
        ("[@needham2008; @brudney1983]", "(Brudney & England, 1983; Needham, 2008)"),
    ],
)
def test_intext_text(bibliography: Bibliography, source: str, expected: str) -> None:
    assert bibliography.render_text(source, "text")[0] == expected


def test_unknown_key_is_left_as_written(bibliography: Bibliography) -> None:
    text = "As [see @needham2008; @nobody, p. 3] and @nobody said."
    assert bibliography.render_text(text, "html") == (text, ["needham2008"])


def test_format_citation_with_unknown_key_returns_pandoc_syntax(bibliography: Bibliography) -> None:
    citation = Citation(
        items=(
            CiteItem(key="nobody", prefix="see", locator="p. 3"),
            CiteItem(key="odd key", suppress_author=True),
        ),
        narrative=False,
        start=0,
        end=0,
        line=1,
        column=1,
    )
    assert bibliography.format_citation(citation) == "[see @nobody, p. 3; -@{odd key}]"


def test_render_text_returns_cited_keys_in_first_cited_order(bibliography: Bibliography) -> None:
    _, keys = bibliography.render_text("@lukes2005 then [@needham2008; @lukes2005] then [@barnes2011]")
    assert keys == ["lukes2005", "needham2008", "barnes2011"]


def test_render_text_leaves_the_rest_of_the_text_alone(bibliography: Bibliography) -> None:
    text = "Intro *emphasis* & <b>html</b>\n\n```\n[@needham2008]\n```\nEnd [@needham2008]."
    rendered, _ = bibliography.render_text(text, "markdown")
    assert rendered == "Intro *emphasis* & <b>html</b>\n\n```\n[@needham2008]\n```\nEnd (Needham, 2008)."


# --------------------------------------------------------------------------- HTML details


def test_html_citations_are_bare_links_named_by_their_key(bibliography: Bibliography) -> None:
    rendered, _ = bibliography.render_text(
        "[@needham2008] [@needham2008] @needham2008 [@lukes2005]", "html", href=lambda key: f"/refs/#{key}"
    )
    # The reference is not inlined, and a citation carries nothing but its link: the key is the fragment, by
    # which the browser finds the page's one element describing it (cite-KEY).
    assert re.findall(r' id="([^"]+)"', rendered) == []
    assert re.findall(r"<a [^>]*>", rendered) == [
        '<a class="cite" href="/refs/#needham2008">',
        '<a class="cite" href="/refs/#needham2008">',
        '<a class="cite" href="/refs/#needham2008">',
        '<a class="cite" href="/refs/#lukes2005">',
    ]
    for markup in ("cite-preview", "cite-item", "data-key", "aria-describedby", "<span"):
        assert markup not in rendered


def test_html_links_use_href_and_keep_parentheses_outside(bibliography: Bibliography) -> None:
    rendered, _ = bibliography.render_text("[@needham2008, p. 224]", "html", href=lambda key: f"/refs/#{key}")
    assert rendered == '(<a class="cite" href="/refs/#needham2008">Needham, 2008, p. 224</a>)'


def test_html_preview_holds_the_reference_without_links(bibliography: Bibliography) -> None:
    preview = bibliography.preview("needham2008")
    assert "<a " not in preview
    assert preview == re.sub(r"<a [^>]*>|</a>", "", bibliography.format_reference("needham2008", "html"))
    with pytest.raises(KeyError, match="not in the bibliography"):
        bibliography.preview("nosuchkey")


HOSTILE_BIB = r"""
@article{hostile,
  author  = {{<img src=x onerror=alert(1)> \& Co}},
  title   = {{<script>}alert("title")</script> and a "quote"},
  journal = {Journal <i>},
  year    = {2020},
  url     = {javascript:alert(1)},
}
@misc{quoted, author = {A, B}, title = {T}, year = {2020}, url = {https://example.org/?a="b"&c=<d>}}
"""


def test_html_escapes_everything_from_the_bib() -> None:
    bib, problems = Bibliography.parse(HOSTILE_BIB)
    assert problems == []
    reference = bib.format_reference("hostile", "html")
    assert "<script" not in reference.lower()
    assert "<img" not in reference
    assert "<i>" not in reference
    assert '&lt;script&gt;alert("title")&lt;/script&gt;' in reference
    assert "<a " not in reference  # a javascript: URL is never a link
    rendered, _ = bib.render_text("[@hostile]", "html")
    assert "<script" not in rendered.lower()
    assert "<img" not in rendered
    assert ">&lt;img src=x onerror=alert(1)&gt; &amp; Co, 2020</a>" in rendered
    link = bib.format_reference("quoted", "html")
    assert 'href="https://example.org/?a=%22b%22&amp;c=%3Cd%3E"' in link


def test_markdown_escapes_html_from_the_bib() -> None:
    bib, _ = Bibliography.parse(HOSTILE_BIB)
    reference = bib.format_reference("hostile", "markdown")
    assert "<script" not in reference.lower()
    assert "<img" not in reference
    assert "&lt;script>" in reference


def test_markdown_citations_have_no_links(bibliography: Bibliography) -> None:
    rendered, _ = bibliography.render_text("[@needham2008] and @fixture-manuscript", "markdown")
    assert rendered == "(Needham, 2008) and *Fixture manuscript* (2021)"


# --------------------------------------------------------------------------- find_citations


def items(text: str) -> list[list[tuple[str, str, str, str, bool]]]:
    return [
        [(item.key, item.prefix, item.locator, item.suffix, item.suppress_author) for item in citation.items]
        for citation in find_citations(text)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[@key]", [[("key", "", "", "", False)]]),
        ("[@key, p. 5]", [[("key", "", "p. 5", "", False)]]),
        ("[@key, pp. 3-4]", [[("key", "", "pp. 3-4", "", False)]]),
        ("[@a; @b, p. 98]", [[("a", "", "", "", False), ("b", "", "p. 98", "", False)]]),
        ("[see @key, p. 5]", [[("key", "see", "p. 5", "", False)]]),
        ("[-@key]", [[("key", "", "", "", True)]]),
        ("[@key, p. 5, emphasis added]", [[("key", "", "p. 5", "emphasis added", False)]]),
        ("[@key, emphasis added]", [[("key", "", "", "emphasis added", False)]]),
        ("[@key, 33]", [[("key", "", "33", "", False)]]),
        ("[@key, {pp. iv, vi-xi}]", [[("key", "", "pp. iv, vi-xi", "", False)]]),
        ("[@key, chap. 3]", [[("key", "", "chap. 3", "", False)]]),
        ("[@{odd key!}]", [[("odd key!", "", "", "", False)]]),
        ("[*see* @a, p. 1;\n also @b]", [[("a", "*see*", "p. 1", "", False), ("b", "also", "", "", False)]]),
        ("@key says", [[("key", "", "", "", False)]]),
        ("@key [p. 5] says", [[("key", "", "p. 5", "", False)]]),
        ("(@key)", [[("key", "", "", "", False)]]),
    ],
)
def test_find_citations_syntax(text: str, expected: list[list[tuple[str, str, str, str, bool]]]) -> None:
    assert items(text) == expected


def test_find_citations_narrative_flag_and_offsets() -> None:
    text = "First line.\nAs @needham2008 [p. 5] says [see @lukes2005]."
    narrative, bracketed = find_citations(text)
    assert (narrative.narrative, narrative.line, narrative.column) == (True, 2, 4)
    assert text[narrative.start : narrative.end] == "@needham2008 [p. 5]"
    assert (bracketed.narrative, bracketed.line, bracketed.column) == (False, 2, 29)
    assert text[bracketed.start : bracketed.end] == "[see @lukes2005]"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("As @needham2008.", "needham2008"),
        ("As @needham2008, said", "needham2008"),
        ("As @needham2008: yes", "needham2008"),
        ("See @smith:2004-a?", "smith:2004-a"),
        ("By @doe_j/2001.", "doe_j/2001"),
        ("@a.b.c's view", "a.b.c"),
    ],
)
def test_keys_lose_trailing_punctuation(text: str, key: str) -> None:
    assert [item.key for citation in find_citations(text) for item in citation.items] == [key]


@pytest.mark.parametrize(
    "text",
    [
        "Write to someone@example.org or a.b@c.org.",
        "<someone@example.org>",
        "https://example.org/@needham2008 and www.example.org/@lukes2005",
        "<https://example.org/@needham2008>",
        "[a link](https://example.org/@needham2008)",
        "[see @needham2008](https://example.org)",
        "![image @needham2008](x.png)",
        "[@needham2008]: https://example.org",
        "Inline `[@needham2008]` and ``code with ` and @lukes2005``.",
        "```\n[@needham2008]\n```",
        "~~~~ python\n@needham2008\n~~~~",
        "Text.\n\n    [@needham2008] in an indented code block\n\nAfter.",
        "<!-- @needham2008 in a comment -->",
        '<span title="@needham2008">x</span>',
        r"Escaped \@needham2008 and \[@lukes2005]",
        "price @ 5 and a@ b and user@@host",
        "[^note] and [ ] and []",
    ],
)
def test_find_citations_skips_code_addresses_and_urls(text: str) -> None:
    found = find_citations(text)
    assert [(c.items[0].key, text[c.start : c.end]) for c in found if c.items[0].key != "lukes2005"] == []


def test_escaped_bracket_still_allows_the_narrative_inside() -> None:
    assert items(r"\[@lukes2005]") == [[("lukes2005", "", "", "", False)]]


def test_find_citations_inside_lists_and_admonitions() -> None:
    text = (
        "- item [@a]\n\n    continued [@b]\n\n"
        '!!! note "Note"\n\n    admonition [@c]\n\n'
        "Paragraph.\n\n    code [@d]\n"
    )
    assert [citation.items[0].key for citation in find_citations(text)] == ["a", "b", "c"]


def test_citations_in_code_of_every_kind_are_skipped() -> None:
    text = (
        "Prose [@a].\n\n"
        "```markdown\nA fenced example [@b] and @c\n```\n\n"
        "Inline ``a `tick` and [@d]`` and `[@e]` then @f.\n\n"
        "    indented [@g]\n\n"
        "<!-- a comment [@h]\nover two lines -->\n"
        "- a list item\n\n    ```\n    [@i] in a fence in the item\n    ```\n\n"
        "Last [@j]."
    )
    assert [citation.items[0].key for citation in find_citations(text)] == ["a", "f", "j"]


def test_a_citation_after_an_escaped_backtick_is_found() -> None:
    # CommonMark: "\`" is a literal backtick, so no code span starts there.
    assert [c.items[0].key for c in find_citations(r"A \`literal [@a] and `[@b]`.")] == ["a"]


def test_unclosed_fence_hides_the_rest() -> None:
    assert find_citations("[@a]\n```\n[@b]\n") == find_citations("[@a]")


def test_bracket_without_a_key_in_every_part_is_not_a_citation() -> None:
    # Pandoc reads this as text in brackets holding a narrative citation.
    assert items("[see @a; and others]") == [[("a", "", "", "", False)]]
    assert find_citations("[see @a; and others]")[0].narrative


def test_citation_across_a_soft_line_break() -> None:
    (citation,) = find_citations("[see\n@a, p. 3]")
    assert (citation.items[0].prefix, citation.items[0].locator) == ("see", "p. 3")


def test_citation_does_not_cross_a_paragraph() -> None:
    assert items("[see\n\n@a]") == [[("a", "", "", "", False)]]


# --------------------------------------------------------------------------- parse problems


def test_syntax_error_is_reported_at_the_line_to_fix_and_later_entries_survive() -> None:
    bib, problems = parse(
        "@article{good, author = {A, B}, title = {T}, year = 2000}\n"
        "\n"
        "@article{comma,\n"
        "  author = {A, B},\n"
        "  title  = {T}\n"
        "  year   = {2000},\n"
        "}\n"
        "@book{after, author = {X, Y}, title = {T}, year = 2001}\n"
    )
    assert problems == [(5, "bibtex-syntax", "comma")]
    assert bib.keys == ("good", "comma", "after")


def test_unclosed_entry_is_reported_where_it_starts() -> None:
    bib, problems = parse(
        "@book{one, author = {X, Y}, title = {T, year = 2001}\n"
        "\n"
        "@book{two, author = {X, Y}, title = {T}, year = 2001}\n"
        "@book{three, author = {X, Y}, title = {T}, year = {2001}\n"
    )
    assert problems == [(1, "bibtex-syntax", "one"), (4, "bibtex-syntax", "three")]
    assert "two" in bib


def test_value_without_closing_brace_is_reported_where_it_starts() -> None:
    bib, problems = parse(
        "@article{one,\n"
        "  author  = {A, B},\n"
        "  journal = {Social Policy and Society,\n"
        "  year    = {2008},\n"
        "}\n"
        "\n"
        "@article{two, author = {X, Y}, title = {T}, year = 2001}\n"
        "@article{three,\n"
        "  title = {Unfinished\n"
    )
    assert problems == [(3, "bibtex-syntax", "one"), (9, "bibtex-syntax", "three")]
    assert "two" in bib
    messages = [problem.message for problem in Bibliography.parse("@a{k,\n t = {x,\n y = {1},\n}\n@b{")[1]]
    assert 'runs into the field "y"' in messages[0]


def test_duplicate_key_is_reported_at_the_second_entry() -> None:
    bib, problems = parse(
        "@book{dup, author = {X, Y}, title = {First}, year = 2001}\n"
        "@book{other, author = {X, Y}, title = {T}, year = 2001}\n"
        "@book{Dup, author = {X, Y}, title = {Second}, year = 2002}\n"
    )
    assert problems == [(3, "duplicate-key", "Dup")]
    assert bib.keys == ("dup", "other")
    assert "First" in bib.format_reference("dup")
    raw_problems = Bibliography.parse("@book{a, author={X, Y}, title={T}, year=1}\n@book{a, title={U}}")[1]
    assert "first defined on line 1" in raw_problems[0].message


def test_missing_fields_are_reported() -> None:
    _, problems = parse(
        "@book{noauthor, title = {T}, year = 2001}\n"
        "@book{noyear, author = {X, Y}, title = {T}}\n"
        "@book{notitle, author = {X, Y}, year = 2001}\n"
        "@book{nothing}\n"
        "@book{baddate, author = {X, Y}, title = {T}, date = {March 2019}}\n"
    )
    assert problems == [
        (1, "missing-author", "noauthor"),
        (2, "missing-year", "noyear"),
        (3, "missing-title", "notitle"),
        (4, "missing-author", "nothing"),
        (4, "missing-year", "nothing"),
        (4, "missing-title", "nothing"),
        (5, "missing-year", "baddate"),
    ]


def test_entries_that_need_no_author_or_year_are_accepted() -> None:
    _, problems = parse(
        "@book{nd, author = {X, Y}, title = {T}, year = {n.d.}}\n"
        "@book{editor, editor = {X, Y}, title = {T}, date = {2019-03-05}}\n"
        "@report{group, institution = {Group}, title = {T}, year = 2001}\n"
        "@online{org, organization = {Group}, title = {T}, year = 2001}\n"
        "@misc{law, type = {legislation}, title = {Care Act 2014}, year = 2014}\n"
        "@legislation{law2, title = {Care Act 2014}, year = 2014}\n"
        "@unpublished{anon, options = {useauthor=false}, title = {T}, year = 2001}\n"
    )
    assert problems == []


def test_other_syntax_problems() -> None:
    _, problems = parse(
        "@book{bare, author = {X, Y}, title = {T}, year = 2001, month = foo}\n"
        "@book{twice, author = {X, Y}, title = {T}, title = {U}, year = 2001}\n"
        "@book{names, author = {A, B, C, D}, title = {T}, year = 2001}\n"
    )
    assert problems == [
        (1, "bibtex-syntax", "bare"),
        (2, "bibtex-syntax", "twice"),
        (3, "bibtex-syntax", "names"),
    ]


def test_parse_never_raises_on_garbage() -> None:
    for garbage in [
        "@",
        "@{",
        "@book{",
        "@book{a,",
        "}}}",
        "@book{a, title = {",
        '@book{a, title = "x}',
        "\x00@@",
    ]:
        bib, problems = Bibliography.parse(garbage)
        assert isinstance(bib, Bibliography)
        assert all(isinstance(problem, BibliographyProblem) for problem in problems)


def test_problem_codes_are_catalogued() -> None:
    _, problems = Bibliography.parse(
        "@book{a, title = {x}}\n"
        "@book{a, author = {A, B}, title = {T}, year = 1}\n"
        "@book{b, author = {X, Y}, title\n"
    )
    assert problems
    assert {problem.code for problem in problems} <= set(BIBLIOGRAPHY_PROBLEM_CODES)
    for code, (title, explanation) in BIBLIOGRAPHY_PROBLEM_CODES.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code)
        assert title
        assert explanation
    assert all(problem.hint for problem in problems)


def test_from_file_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "references.bib"
    path.write_text(
        "@book{a, title = {T}, year = 2001}\n@book{b, author = {A, B}, year = 2001}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="2 problems") as raised:
        Bibliography.from_file(path)
    message = str(raised.value)
    assert f"{path}:1: [missing-author]" in message
    assert f"{path}:2: [missing-title]" in message


# --------------------------------------------------------------------------- lookups and order


def test_lookups(bibliography: Bibliography) -> None:
    assert bibliography.keys[:3] == ("mclaughlin2009", "brudney1983", "needham2008")
    assert len(bibliography) == len(bibliography.keys) == 23
    assert "needham2008" in bibliography
    assert "Needham2008" not in bibliography
    assert 42 not in bibliography
    assert bibliography.line_of("mclaughlin2009") == 5
    assert bibliography.suggest("needham2009") == "needham2008"
    assert bibliography.suggest("NEEDHAM2008") == "needham2008"
    assert bibliography.suggest("completely-different-zzz") is None
    with pytest.raises(KeyError, match='did you mean "needham2008"'):
        bibliography.format_reference("needam2008")


def test_bibtex_returns_the_source(bibliography: Bibliography) -> None:
    source = bibliography.bibtex("lukes2005")
    assert source.startswith("@book{lukes2005,")
    assert source.endswith("}")
    assert "  edition   = {2}," in source
    again, problems = Bibliography.parse(source)
    assert problems == []
    assert again.format_reference("lukes2005") == bibliography.format_reference("lukes2005")


def test_sort_keys_ignores_diacritics_braces_and_articles(bibliography: Bibliography) -> None:
    keys = [
        "owen-fixture-1999",
        "ovretveit-fixture",
        "openuniversity-fixture",
        "oakley-fixture",
        "owen-fixture-nd",
    ]
    assert bibliography.sort_keys(keys) == [
        "oakley-fixture",
        "openuniversity-fixture",  # "The Open University" sorts under O
        "ovretveit-fixture",  # Øvretveit sorts as Ovretveit
        "owen-fixture-nd",  # n.d. before dated works
        "owen-fixture-1999",
    ]
    assert bibliography.sort_keys(["lukes2005", "lukes2005"]) == ["lukes2005"]
    with pytest.raises(KeyError):
        bibliography.sort_keys(["nobody"])


def test_one_author_precedes_the_same_author_with_others(bibliography: Bibliography) -> None:
    keys = ["edmiston-fixture-coauthored", "edmiston-fixture-poverty", "edmiston-fixture-attitudes"]
    assert bibliography.sort_keys(keys) == [
        "edmiston-fixture-attitudes",
        "edmiston-fixture-poverty",
        "edmiston-fixture-coauthored",
    ]


def test_year_suffixes_follow_title_order_ignoring_articles(bibliography: Bibliography) -> None:
    # "The attitudes fixture" sorts as "attitudes", before "Poverty fixture".
    assert bibliography.year_label("edmiston-fixture-attitudes") == "2017a"
    assert bibliography.year_label("edmiston-fixture-poverty") == "2017b"
    assert bibliography.year_label("edmiston-fixture-coauthored") == "2017"
    assert bibliography.year_label("owen-fixture-nd") == "n.d."
    assert "(2017a)" in bibliography.format_reference("edmiston-fixture-attitudes")
    assert bibliography.render_text("[@edmiston-fixture-attitudes]", "text")[0] == "(Edmiston, 2017a)"


def test_suffixes_for_undated_works() -> None:
    bib, _ = Bibliography.parse(
        "@book{b, author = {X, Y}, title = {Beta}, year = {n.d.}}\n"
        "@book{a, author = {X, Y}, title = {Alpha}, year = {n.d.}}\n"
        "@book{c, author = {X, Y}, title = {Gamma}, year = {in press}}\n"
    )
    assert [bib.year_label(key) for key in "abc"] == ["n.d.-a", "n.d.-b", "in press"]


def test_reference_list_subset_is_sorted_and_deduplicated(bibliography: Bibliography) -> None:
    assert bibliography.reference_list(["needham2008", "barnes2011", "needham2008"]) == [
        bibliography.format_reference("barnes2011"),
        bibliography.format_reference("needham2008"),
    ]


# --------------------------------------------------------------------------- scale


def test_a_thousand_entries_and_twenty_thousand_citations_all_render() -> None:
    entries = [
        f"@article{{key{i},\n  author = {{Surname{i % 300}, Given and Other{i}, Person}},\n"
        f"  title = {{Title {i}: A study of {{NHS}} services}},\n  journal = {{Journal {i % 50}}},\n"
        f"  year = {{{1990 + i % 30}}}, volume = {{{i}}}, number = {{2}}, pages = {{1--10}},\n}}\n"
        for i in range(1000)
    ]
    rng = random.Random(7)
    text = " ".join(
        f"[see @key{rng.randrange(1000)}, p. 5; @key{rng.randrange(1000)}] and @key{rng.randrange(1000)}."
        for _ in range(10000)
    )
    # Speed is measured by `coguide bench`, not here: this checks that a large corpus renders completely.
    bib, problems = Bibliography.parse("\n".join(entries))
    rendered, keys = bib.render_text(text, "markdown")
    assert problems == []
    assert len(keys) > 900
    assert "@key" not in rendered
