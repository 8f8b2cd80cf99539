"""Cite stage: Pandoc citations parsed and formatted along pybtex's pipeline (parse -> database -> style).

`citations` finds Pandoc citations in a text and keeps the bibliography (`Bibliography`); `apa` is the APA 7
pybtex style (registered as ``apa7``) that formats both in-text citations and reference entries. A book
chapter's reference, for example, is formatted by ``APAStyle.get_chapter_template`` in `apa`
(``@incollection`` and the other part-of-a-book types map to it).
"""

from coguide.cite.citations import (
    BIBLIOGRAPHY_PROBLEM_CODES,
    Bibliography,
    BibliographyProblem,
    Citation,
    CiteItem,
    find_citations,
    preview_id,
)

__all__ = [
    "BIBLIOGRAPHY_PROBLEM_CODES",
    "Bibliography",
    "BibliographyProblem",
    "Citation",
    "CiteItem",
    "find_citations",
    "preview_id",
]
