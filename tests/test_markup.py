from __future__ import annotations

from html.parser import HTMLParser

import pytest

from coguide.markup import blank, code_spans, find_unsafe_markup, is_safe_url, mask_markdown, render_safe_html

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    '<iframe src="https://example.org"></iframe>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    '<div style="background:url(javascript:alert(1))">x</div>',
]
ALLOWED_TAGS = {
    "p",
    "a",
    "em",
    "strong",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "br",
    "blockquote",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def live_markup(html: str) -> list[str]:
    """Return every tag or attribute in rendered HTML that could run script or load content."""
    collector = _Collector()
    collector.feed(html)
    bad = []
    for tag, attrs in collector.tags:
        if tag not in ALLOWED_TAGS:
            bad.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "src", "srcdoc"):
                bad.append(f"{tag}[{name}]")
            if name == "href" and not is_safe_url(value or ""):
                bad.append(f"{tag}[href={value}]")
    return bad


@pytest.mark.parametrize("payload", PAYLOADS)
def test_rendered_payload_has_no_live_markup(payload):
    html = render_safe_html(f"Some text {payload} more text.")
    assert live_markup(html) == [], html


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if not p.startswith("&")])
def test_check_flags_every_tag_or_unsafe_link(payload):
    codes = {i.code for i in find_unsafe_markup(payload)}
    assert codes & {"raw-html", "unsafe-link"}, payload


def test_entities_that_decode_to_tags_stay_text():
    html = render_safe_html("&#60;script&#62;alert(1)&#60;/script&#62;")
    assert "<script" not in html


def test_safe_markdown_passes():
    text = "Some *emphasis*, a [link](https://example.org), an [e-mail](mailto:a@b.org) and a [page](../terms/client/)."
    assert find_unsafe_markup(text) == []
    html = render_safe_html(text)
    assert '<a href="https://example.org">link</a>' in html


def test_excerpt_mark_is_allowed_only_when_asked():
    assert find_unsafe_markup("a\n\n<!-- more -->\n\nb", allow_excerpt_mark=True) == []
    assert [i.code for i in find_unsafe_markup("a\n\n<!-- more -->\n\nb")] == ["raw-html"]


def test_issue_lines_are_counted_within_the_text():
    issues = find_unsafe_markup("line one\nline two <b>bold</b>\n\nline four [x](javascript:y)")
    assert [(i.line, i.code) for i in issues] == [(2, "raw-html"), (2, "raw-html"), (4, "unsafe-link")]


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.org", True),
        ("http://x.y", True),
        ("mailto:a@b.org", True),
        ("../terms/client/", True),
        ("#anchor", True),
        ("javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:x", False),
        ("ftp://x", False),
        ("javascript&colon;alert(1)", False),
    ],
)
def test_is_safe_url(url, safe):
    assert is_safe_url(url) is safe


# ------------------------------------------------------------------------------ the code and link scanner


def code_of(text: str) -> list[str]:
    return [text[start:end] for start, end in code_spans(text)]


def test_code_spans_of_different_widths():
    text = "A `one` and ``two with ` inside`` and ```three `` inside``` end."
    assert code_of(text) == ["`one`", "``two with ` inside``", "```three `` inside```"]


def test_an_unmatched_backtick_is_text_and_a_later_pair_is_still_code():
    assert code_of("It's a ``lone pair and a `real` one.") == ["`real`"]
    assert code_of("No closer ` here.") == []


def test_an_escaped_backtick_is_not_an_opener():
    text = r"Literal \`tick and `code`."
    assert code_of(text) == ["`code`"]


def test_a_code_span_does_not_cross_a_paragraph_break_but_does_cross_a_line():
    assert code_of("a `b\n\nc` d") == []
    assert code_of("a `b\nc` d") == ["`b\nc`"]


def test_fenced_and_indented_code_blocks_are_whole_lines():
    text = "Intro.\n\n```python\nx = 1\n```\n\n    indented\n\nAfter ~~~ tildes.\n~~~\nraw\n~~~\n"
    assert code_of(text) == ["```python\nx = 1\n```\n", "    indented\n", "~~~\nraw\n~~~\n"]


def test_containers_hold_prose_but_a_fence_inside_them_is_code():
    text = '!!! note "Note"\n\n    prose\n\n    ```\n    code\n    ```\n\n- item\n\n    more prose\n'
    assert code_of(text) == ["    ```\n    code\n    ```\n"]


def test_code_inside_an_html_block_is_found():
    # MkDocs parses Markdown inside HTML blocks (md_in_html), so code there is code.
    assert code_of("<div markdown>\n`x` here\n</div>") == ["`x`"]


def test_a_text_without_backticks_fences_or_indentation_is_not_parsed(monkeypatch):
    import coguide.markup as markup

    def refuse() -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(markup, "_code_parser", refuse)
    monkeypatch.setattr(markup, "_block_parser", refuse)
    assert code_spans("Plain prose [@key, p. 3] with no code.\n\nA second paragraph.") == []


def test_line_ends_are_counted_as_markdown_it_counts_them():
    assert code_of("a\r\n\r\n```\r\nx\r\n```\r\nb") == ["```\r\nx\r\n```\r\n"]


def test_mask_keeps_length_offsets_and_line_ends():
    text = "See `@a`\n<!-- @b -->\n[x](https://e.org/@c) <https://e.org/@d> mail@e.org @f\n\n```\n@g\n```"
    masked = mask_markdown(text)
    assert len(masked) == len(text)
    assert [i for i, c in enumerate(text) if c == "\n"] == [i for i, c in enumerate(masked) if c == "\n"]
    # A bare address stays (the citation reader knows an "@" inside a word is no citation).
    assert masked.count("@") == 2 and masked.index("mail@e.org @f") == text.index("mail@e.org @f")
    assert "[x](" in masked  # the link text stays; only the target is blanked


def test_blank_merges_overlapping_spans():
    assert blank("abcdef\ngh", [(1, 3), (2, 8), (0, 0)]) == "a     \n h"
    assert blank("abc", []) == "abc"
