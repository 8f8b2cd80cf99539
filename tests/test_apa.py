"""Tests for the APA 7 pybtex style (coguide.cite.apa): names, LaTeX, punctuation, each reference pattern."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybtex.database import Entry, Person, parse_string
from pybtex.plugin import find_plugin

from coguide.cite import Bibliography
from coguide.cite.apa import (
    APAStyle,
    describe_entry,
    initials,
    intext_author,
    intext_narrative,
    intext_parenthetical,
    latex_to_text,
    sort_text,
    year_labels,
)

FIXTURE = Path(__file__).parent / "fixtures" / "cite" / "references.bib"


def reference(bib: str, fmt: str = "text", key: str | None = None) -> str:
    bibliography, problems = Bibliography.parse(bib)
    assert problems == []
    return bibliography.format_reference(key or bibliography.keys[0], fmt)  # type: ignore[arg-type]


def intext(bib: str, source: str) -> str:
    bibliography, problems = Bibliography.parse(bib)
    assert problems == []
    return bibliography.render_text(source, "text")[0]


# --------------------------------------------------------------------------- pybtex plugin


def test_style_is_registered_with_pybtex() -> None:
    assert find_plugin("pybtex.style.formatting", "apa7") is APAStyle


def test_pybtex_pipeline_matches_the_bibliography() -> None:
    source = FIXTURE.read_text(encoding="utf-8")
    formatted = APAStyle().format_bibliography(parse_string(source, "bibtex"))
    rendered = [entry.text.render_as("text") for entry in formatted]
    labels = {entry.key: entry.label for entry in formatted}
    bibliography = Bibliography.from_file(FIXTURE)
    assert rendered == bibliography.reference_list(fmt="text")
    assert labels["edmiston-fixture-attitudes"] == "2017a"


# --------------------------------------------------------------------------- LaTeX and sorting


@pytest.mark.parametrize(
    ("latex", "plain"),
    [
        (r"{\O}vretveit", "Øvretveit"),
        (r"Caf{\'e} \& Co", "Café & Co"),
        (r"\'{E}mile", "Émile"),
        (r"{NHS} trusts", "NHS trusts"),
        ("pages 1--2 and---so", "pages 1–2 and—so"),
        ("``quoted'' and `single'", "“quoted” and ‘single’"),
        (r"50\% of \$5 for \#1", "50% of $5 for #1"),
        (r"\emph{Italic} and \textbf{bold}", "Italic and bold"),
        ("unbalanced { brace", "unbalanced  brace"),
    ],
)
def test_latex_is_decoded(latex: str, plain: str) -> None:
    assert str(latex_to_text(latex)) == plain


def test_emphasis_becomes_italics() -> None:
    assert latex_to_text(r"A \emph{B} and {\em C}").render_as("html") == "A <em>B</em> and <em>C</em>"


@pytest.mark.parametrize(
    ("before", "after"),
    [("Øvretveit", "Oakley"), ("Loftus", "Loft"), ("Müller", "Mueller"), ("Zed", "Ångström")],
)
def test_sort_text_is_letter_by_letter_without_diacritics(before: str, after: str) -> None:
    assert sort_text(after) < sort_text(before)


def test_sort_text_values() -> None:
    assert sort_text("Øvretveit") == "ovretveit"
    assert sort_text("Mac Arthur") == sort_text("MacArthur")


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Needham, Catherine", "Needham, C."),
        ("Jean-Pierre Dupont", "Dupont, J.-P."),
        ("Brudney, Jeffrey L.", "Brudney, J. L."),
        ("Smith, J.P.", "Smith, J. P."),
        ("van der Berg, Anna Maria", "van der Berg, A. M."),
        ("Ludwig van Beethoven", "van Beethoven, L."),
        ("King, Jr., Martin Luther", "King, M. L., Jr."),
        (r"{\O}vretveit, John", "Øvretveit, J."),
        (r"{\'E}mile Zola", "Zola, É."),
        ("{World Health Organization}", "World Health Organization"),
        ("{{The Open University}}", "The Open University"),
    ],
)
def test_author_names(author: str, expected: str) -> None:
    bib = f"@book{{k, author = {{{author}}}, title = {{T}}, year = 2000}}"
    # APA ends the author element with one full stop: an initial's own stop serves, a name without one gets it.
    author = expected if expected.endswith(".") else f"{expected}."
    assert reference(bib).startswith(f"{author} (2000). ")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # Letters only: pybtex's abbreviation, which is APA's.
        ("Jean-Pierre", "J.-P."),
        ("Mary Ann", "M. A."),
        ("Anne-Marie  Louise", "A.-M. L."),
        ("Élodie", "É."),
        ("", ""),
        # The exception: parts pybtex would keep whole get one initial per name.
        ("J.P.", "J. P."),
        ("Ch.", "C."),
        ("O'Neil", "O."),
        ("- Pierre", "P."),
        ("Jean - Pierre", "J.-P."),
    ],
)
def test_initials(given: str, expected: str) -> None:
    assert initials(given) == expected


def test_two_authors_use_comma_and_ampersand() -> None:
    bib = "@book{k, author = {Brudney, J. and England, R.}, title = {T}, year = 2000}"
    assert reference(bib).startswith("Brudney, J., & England, R. (2000).")


def test_up_to_twenty_authors_are_listed() -> None:
    names = " and ".join(f"Author{i}, A." for i in range(1, 21))
    text = reference(f"@book{{k, author = {{{names}}}, title = {{T}}, year = 2000}}")
    assert text.startswith("Author1, A., Author2, A., ")
    assert "Author19, A., & Author20, A. (2000)." in text


def test_more_than_twenty_authors_use_an_ellipsis() -> None:
    names = " and ".join(f"Author{i}, A." for i in range(1, 24))
    text = reference(f"@book{{k, author = {{{names}}}, title = {{T}}, year = 2000}}")
    assert "Author19, A., . . . Author23, A. (2000)." in text
    assert "Author20" not in text


def test_and_others() -> None:
    bib = "@book{k, author = {Smith, John and others}, title = {T}, year = 2000}"
    assert reference(bib).startswith("Smith, J., et al. (2000).")
    assert intext(bib, "[@k]") == "(Smith et al., 2000)"


# --------------------------------------------------------------------------- punctuation


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Who cares?", "*Who cares?* Publisher."),
        ("Stop!", "*Stop!* Publisher."),
        ("Already ended.", "*Already ended.* Publisher."),
        ("Plain", "*Plain*. Publisher."),
    ],
)
def test_no_doubled_punctuation_after_titles(title: str, expected: str) -> None:
    bib = f"@book{{k, author = {{A, B}}, title = {{{title}}}, year = 2000, publisher = {{Publisher}}}}"
    assert reference(bib, "markdown").endswith(expected)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Chat Summary ``{What's} in a Name?''", "A, B. (2000). Chat summary “What’s in a name?” J, 1."),
        (
            "Stereotypes of ``Chavs'' and ``Bogans''",
            "A, B. (2000). Stereotypes of “chavs” and “bogans.” J, 1.",
        ),
    ],
)
def test_full_stops_and_closing_quotation_marks(title: str, expected: str) -> None:
    bib = f"@article{{k, author = {{A, B}}, title = {{{title}}}, journal = {{J}}, year = 2000, volume = 1}}"
    assert reference(bib) == expected


def test_article_title_ending_in_question_mark() -> None:
    bib = "@article{k, author = {A, B}, title = {Why?}, journal = {J}, year = 2000, volume = 1}"
    assert reference(bib) == "A, B. (2000). Why? J, 1."


def test_organisation_ending_with_period() -> None:
    bib = "@book{k, author = {{Example Inc.}}, title = {T}, year = 2000, publisher = {P}}"
    assert reference(bib).startswith("Example Inc. (2000).")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("The {NHS} And Its Users", "The NHS and its users."),
        ("Power: A Radical View", "Power: A radical view."),
        (
            "Co-Production and Co-Creation: Engaging Citizens",
            "Co-production and co-creation: Engaging citizens.",
        ),
        ("Doctor Knows Best? {The} Use of Evidence", "Doctor knows best? The use of evidence."),
        ("Why Do Clients Coproduce? Toward a Theory", "Why do clients coproduce? Toward a theory."),
        (
            "Networks in {Wales} and the UK: {KeyRing} and NHS",
            "Networks in Wales and the UK: KeyRing and NHS.",
        ),
        ("Social Class in the 21st Century", "Social class in the 21st century."),
        ("The {Victoria Climbi{\\'e} Inquiry}", "The Victoria Climbié Inquiry."),
        ("Client \\ldots{} Has the Time Come", "Client … has the time come."),
        ("What's in a Name: `Client', `Patient'", "What’s in a name: ‘Client’, ‘patient’."),
    ],
)
def test_titles_are_put_in_sentence_case(title: str, expected: str) -> None:
    bib = f"@book{{k, author = {{A, B}}, title = {{{title}}}, year = 2000}}"
    assert reference(bib) == f"A, B. (2000). {expected}"


def test_book_titles_of_chapters_are_in_sentence_case_but_journals_and_acts_are_not() -> None:
    chapter = (
        "@incollection{k, author = {A, B}, title = {The Social Model}, booktitle = {The Disability Studies Reader},"
        " editor = {Davis, Lennard J.}, year = 2013, publisher = {Routledge}}"
    )
    assert "In L. J. Davis (Ed.), The disability studies reader. Routledge." in reference(chapter)
    article = "@article{k, author = {A, B}, title = {Two Faces}, journal = {American Political Science Review}, year = 1962}"
    assert reference(article) == "A, B. (1962). Two faces. American Political Science Review."
    act = "@legislation{k, title = {National Health Service and Community Care Act 1990}, year = 1990, number = 19}"
    assert reference(act) == "National Health Service and Community Care Act 1990, c. 19."


def test_translator_with_an_edition() -> None:
    bib = "@book{k, author = {A, B}, translator = {C, D and E, F}, year = {2000}, title = {T}, edition = {3}}"
    assert reference(bib) == "A, B. (2000). T (D. C & F. E, Trans.; 3rd ed.)."


def test_translated_and_republished_book() -> None:
    bib = (
        "@book{foucault1998, author = {Foucault, Michel}, translator = {Hurley, Robert}, year = {1998},"
        " origyear = {1976}, title = {The Will to Knowledge}, publisher = {Penguin}}"
    )
    assert reference(bib) == (
        "Foucault, M. (1998). The will to knowledge (R. Hurley, Trans.). Penguin. "
        "(Original work published 1976)"
    )
    assert intext(bib, "[@foucault1998, p. 63] and @foucault1998") == (
        "(Foucault, 1976/1998, p. 63) and Foucault (1976/1998)"
    )


def test_editor_who_also_translated() -> None:
    bib = (
        "@book{k, author = {Freud, Sigmund}, editor = {Strachey, James}, translator = {Strachey, James},"
        " year = {1961}, origdate = {1923}, title = {The Ego and the Id}, publisher = {Hogarth Press}}"
    )
    assert reference(bib) == (
        "Freud, S. (1961). The ego and the id (J. Strachey, Ed. & Trans.). Hogarth Press. "
        "(Original work published 1923)"
    )


def test_chapter_in_an_authored_book() -> None:
    bib = (
        "@incollection{k, author = {Writer, Ann}, year = {2016}, title = {A Chapter Title},"
        " booktitle = {The Whole Book}, bookauthor = {Author, Bea and Other, Cy},"
        " pages = {1--10}, publisher = {Press}}"
    )
    assert reference(bib) == (
        "Writer, A. (2016). A chapter title. In B. Author & C. Other, The whole book (pp. 1–10). Press."
    )


# --------------------------------------------------------------------------- journal articles


def test_doi_forms_are_normalised() -> None:
    for doi in ("10.1/x", "doi:10.1/x", "https://doi.org/10.1/x", "http://dx.doi.org/10.1/x"):
        bib = (
            f"@article{{k, author = {{A, B}}, title = {{T}}, journal = {{J}}, year = 2000, doi = {{{doi}}}}}"
        )
        assert reference(bib).endswith(" https://doi.org/10.1/x")


def test_url_only_without_doi() -> None:
    both = (
        "@article{k, author = {A, B}, title = {T}, journal = {J}, year = 2000,"
        " doi = {10.1/x}, url = {https://e.org}}"
    )
    assert "e.org" not in reference(both)
    url = "@article{k, author = {A, B}, title = {T}, journal = {J}, year = 2000, url = {https://e.org/a}}"
    assert reference(url, "html").endswith('<a href="https://e.org/a">https://e.org/a</a>')


def test_article_number() -> None:
    bib = (
        "@article{k, author = {A, B}, title = {T}, journal = {PLOS ONE}, year = 2020,"
        " volume = 15, number = 3, eid = {e0230000}}"
    )
    assert reference(bib) == "A, B. (2020). T. PLOS ONE, 15(3), Article e0230000."


def test_journal_and_volume_italic_issue_not() -> None:
    bib = (
        "@article{k, author = {A, B}, title = {T}, journal = {J}, year = 2000,"
        " volume = 39, number = 6, pages = {1-2}}"
    )
    assert reference(bib, "html").endswith("<em>J</em>, <em>39</em>(6), 1–2.")
    assert reference(bib, "markdown").endswith("*J*, *39*(6), 1–2.")


# --------------------------------------------------------------------------- books and chapters


@pytest.mark.parametrize(
    ("edition", "expected"),
    [
        ("2", "2nd ed."),
        ("3rd", "3rd ed."),
        ("second", "2nd ed."),
        ("11", "11th ed."),
        ("Revised", "Rev. ed."),
    ],
)
def test_editions(edition: str, expected: str) -> None:
    bib = f"@book{{k, author = {{A, B}}, title = {{T}}, year = 2000, edition = {{{edition}}}}}"
    assert f"T ({expected})." in reference(bib)


def test_edited_book_with_one_editor() -> None:
    bib = "@book{k, editor = {Barnes, Marian}, title = {T}, year = 2011, publisher = {Policy Press}}"
    assert reference(bib) == "Barnes, M. (Ed.). (2011). T. Policy Press."
    assert intext(bib, "[@k]") == "(Barnes, 2011)"


def test_book_with_author_and_editor() -> None:
    bib = (
        "@book{k, author = {Freud, Sigmund}, editor = {Strachey, James}, title = {The ego and the id},"
        " year = 1961, edition = 2, publisher = {Hogarth Press}}"
    )
    assert (
        reference(bib) == "Freud, S. (1961). The ego and the id (J. Strachey, Ed.; 2nd ed.). Hogarth Press."
    )


def test_chapter_editors() -> None:
    base = (
        "@incollection{{k, author = {{Farr, M.}}, title = {{C}}, booktitle = {{B}}, editor = {{{}}},"
        " year = 2011, pages = {{79--88}}, publisher = {{P}}}}"
    )
    assert "In M. Barnes (Ed.), B (pp. 79–88). P." in reference(base.format("Barnes, Marian"))
    three = reference(base.format("Barnes, Marian and Cotterell, Phil and Example, Alex"))
    assert "In M. Barnes, P. Cotterell, & A. Example (Eds.), B (pp. 79–88). P." in three


def test_chapter_without_editors_and_inbook() -> None:
    bib = (
        "@inbook{k, author = {A, B}, title = {C}, booktitle = {Book},"
        " year = 2011, pages = {5}, publisher = {P}}"
    )
    assert reference(bib) == "A, B. (2011). C. In Book (p. 5). P."


def test_inproceedings_is_formatted_as_a_chapter() -> None:
    bib = (
        "@inproceedings{k, author = {A, B}, title = {C},"
        " booktitle = {Proceedings}, editor = {E, F}, year = 2011}"
    )
    assert reference(bib) == "A, B. (2011). C. In F. E (Ed.), Proceedings."


# --------------------------------------------------------------------------- reports, theses, web


def test_report_by_a_person_and_by_a_group() -> None:
    person = (
        "@techreport{k, author = {A, B}, title = {T}, number = {16}, institution = {Inst},"
        " year = 2020, url = {https://e.org/r}}"
    )
    assert reference(person) == "A, B. (2020). T (Report No. 16). Inst. https://e.org/r"
    group = "@report{k, institution = {Joseph Rowntree Foundation}, title = {T}, year = 2019}"
    assert reference(group) == "Joseph Rowntree Foundation. (2019). T."
    assert intext(group, "[@k]") == "(Joseph Rowntree Foundation, 2019)"
    typed = (
        "@report{k, author = {A, B}, title = {T}, type = {Briefing paper}, year = 2019, institution = {I}}"
    )
    assert reference(typed) == "A, B. (2019). T [Briefing paper]. I."


def test_theses() -> None:
    online = (
        "@mastersthesis{k, author = {A, B}, title = {T}, school = {Uni}, year = 2019, url = {https://e.org}}"
    )
    assert reference(online) == "A, B. (2019). T [Master's thesis, Uni]. https://e.org"
    offline = "@thesis{k, author = {A, B}, title = {T}, type = {phdthesis}, institution = {Uni}, year = 2019}"
    assert reference(offline) == "A, B. (2019). T [Unpublished doctoral dissertation]. Uni."


def test_web_page_and_blog_post() -> None:
    page = (
        "@online{k, author = {A, B}, title = {Page}, organization = {Site}, date = {2019-03-05},"
        " url = {https://e.org}}"
    )
    assert reference(page, "markdown") == "A, B. (2019, March 5). *Page*. Site. <https://e.org>"
    blog = (
        "@online{k, author = {A, B}, title = {Post}, journaltitle = {Blog}, entrysubtype = {blog},"
        " date = {2019-03}, url = {https://e.org}}"
    )
    assert reference(blog, "markdown") == "A, B. (2019, March). Post. *Blog*. <https://e.org>"
    misc = (
        "@misc{k, author = {A, B}, title = {Page}, howpublished = {Site}, year = 2019,"
        " month = mar, day = {5}, url = {https://e.org}}"
    )
    assert reference(misc, "markdown") == "A, B. (2019, March 5). *Page*. Site. <https://e.org>"


def test_site_name_is_omitted_when_it_is_the_author() -> None:
    bib = (
        "@online{k, organization = {World Health Organization}, title = {Page},"
        " date = {2020-01-02}, url = {https://who.int}}"
    )
    assert reference(bib) == "World Health Organization. (2020, January 2). Page. https://who.int"


def test_undated_page_with_retrieval_date() -> None:
    bib = (
        "@online{k, author = {A, B}, title = {Page}, year = {n.d.},"
        " url = {https://e.org}, urldate = {2024-02-03}}"
    )
    assert reference(bib) == "A, B. (n.d.). Page. Retrieved February 3, 2024, from https://e.org"


def test_legislation() -> None:
    bib = (
        "@legislation{k, title = {Care Act 2014}, number = {c. 23}, year = 2014,"
        " url = {https://www.legislation.gov.uk/ukpga/2014/23}}"
    )
    assert reference(bib) == "Care Act 2014, c. 23. https://www.legislation.gov.uk/ukpga/2014/23"
    assert intext(bib, "[@k, s. 9] and @k") == "(Care Act 2014, s. 9) and Care Act 2014"


def test_no_author_moves_the_title() -> None:
    bib = (
        "@unpublished{k, title = {A very long title about many things},"
        " year = 2020, options = {useauthor=false}}"
    )
    assert (
        reference(bib, "markdown")
        == "*A very long title about many things* \\[Unpublished manuscript\\]. (2020)."
    )
    assert intext(bib, "[@k]") == "(A very long title, 2020)"
    short = (
        "@book{k, title = {Long title: Subtitle}, shorttitle = {Long},"
        " year = 2020, options = {useauthor=false}}"
    )
    assert intext(short, "@k") == "Long (2020)"
    article = "@article{k, title = {Article title}, journal = {J}, year = 2020, options = {useauthor=false}}"
    assert reference(article) == "Article title. (2020). J."
    assert intext(article, "[@k] and @k") == "(“Article title,” 2020) and “Article title” (2020)"


def test_unsafe_url_is_not_a_link() -> None:
    bib = "@misc{k, author = {A, B}, title = {T}, year = 2000, url = {javascript:alert(1)}}"
    assert "<a" not in reference(bib, "html")


# --------------------------------------------------------------------------- facts, labels, in-text


def facts_of(bib: str):
    entry = next(iter(parse_string(bib, "bibtex").entries.values()))
    return describe_entry(entry)


def test_in_text_author_forms() -> None:
    one = facts_of("@book{k, author = {Needham, C.}, title = {T}, year = 2008}")
    two = facts_of("@book{k, author = {Brudney, J. and England, R.}, title = {T}, year = 1983}")
    three = facts_of(
        "@book{k, author = {Pykett, J. and Cloke, P. and Barnett, C.}, title = {T}, year = 2010}"
    )
    group = facts_of("@book{k, author = {{New Economics Foundation}}, title = {T}, year = 2008}")
    assert str(intext_author(one)) == "Needham"
    assert str(intext_author(two)) == "Brudney & England"
    assert str(intext_author(two, narrative=True)) == "Brudney and England"
    assert str(intext_author(three)) == "Pykett et al."
    assert str(intext_author(group)) == "New Economics Foundation"
    assert str(intext_parenthetical(one, "2008")) == "Needham, 2008"
    assert str(intext_parenthetical(one, "2008", show_author=False)) == "2008"
    assert [str(part) for part in intext_narrative(one, "2008")] == ["Needham", "2008"]


def test_dates() -> None:
    assert facts_of("@book{k, title = {T}, date = {2019-03-05/2019-03-07}}").year == "2019"
    iso = facts_of("@online{k, title = {T}, date = {2019-03-05}}")
    assert (iso.year, iso.month, iso.day) == ("2019", 3, 5)
    assert facts_of("@book{k, title = {T}, year = {n.d.}}").status == "nd"
    assert facts_of("@book{k, title = {T}, year = {in press}}").status == "press"
    assert facts_of("@book{k, title = {T}}").status == "missing"


def test_year_labels_need_identical_author_lists() -> None:
    a = facts_of("@book{a, author = {Edmiston, D.}, title = {A}, year = 2017}")
    b = facts_of("@book{b, author = {Edmiston, D.}, title = {B}, year = 2017}")
    c = facts_of("@book{c, author = {Edmiston, D. and X, Y.}, title = {C}, year = 2017}")
    d = facts_of("@book{d, author = {Edmiston, D.}, title = {D}, year = 2018}")
    assert year_labels([a, b, c, d]) == ["2017a", "2017b", "2017", "2018"]
    assert year_labels(
        [facts_of(f"@book{{k{i}, author = {{A, B}}, title = {{T}}, year = 2000}}") for i in range(28)]
    )[-2:] == ["2000aa", "2000ab"]


def test_kinds() -> None:
    assert facts_of("@misc{k, title = {T}, type = {legislation}}").kind == "legislation"
    assert facts_of("@misc{k, title = {T}, url = {https://e.org}, date = {2020-01-02}}").kind == "webpage"
    assert facts_of("@misc{k, title = {T}, url = {https://e.org}, year = 2020}").kind == "misc"
    assert facts_of("@online{k, title = {T}, keywords = {blog, x}}").kind == "blog"
    assert facts_of("@inbook{k, title = {T}, booktitle = {B}}").kind == "chapter"
    assert facts_of("@inbook{k, title = {T}}").kind == "book"
    assert facts_of("@patent{k, title = {T}}").kind == "misc"


def test_person_without_entry_key_is_described() -> None:
    entry = Entry("book", fields={"title": "T", "year": "2000"}, persons={"author": [Person("Needham, C.")]})
    facts = describe_entry(entry)
    assert facts.key == ""
    assert facts.names[0].inverted == "Needham, C."
