"""Bench: time each stage of the generator (and the MkDocs build) on a synthetic package of N records.

`coguide bench --records N` writes a realistic project of N records into a temporary folder (the real
descriptor, mkdocs.yml and hand-written docs, synthetic tables, bibliography and essays), checks that it
passes `coguide check`, then measures load, validate, model and render as `coguide build` runs them, the
MkDocs build in a process of its own, a citation micro-benchmark and the cost of regenerating after a
one-record edit. With ``--bibtex-plugin`` it also builds the micro-benchmark's pages with MkDocs without and
with the archived mkdocs-bibtex plugin; with several ``--records`` it runs each size in a process of its own
and compares their cost per record. See docs/developers/performance.md for the results and the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coguide.text import slugify

#: Files of the real project that the synthetic project needs so that the real pipeline runs.
PROJECT_FILES = ("mkdocs.yml", "CONTRIBUTING.md", "docs")
#: Stages of `coguide.build.generate`, in order.
STAGES = ("load", "validate", "model", "render")
_STANCES = ("for", "against", "qualifies")
#: Share of the N records given to each resource; arguments take the rest.
SHARES = {"terms": 0.10, "concepts": 0.30, "cases": 0.30}
#: One debate question per this many records, on top of the N.
RECORDS_PER_QUESTION = 40


def _vocabulary(text: str) -> list[str]:
    return text.split()


# --- Vocabulary ---------------------------------------------------------------------------------------------
# Real words from the field, so that the Markdown renderer, the glossary matcher and the search index see
# text shaped like the guide's own (varied word lengths, repeated domain terms, a long tail of rarer words).

_NOUNS = _vocabulary("""
service user practitioner worker family carer citizen community council agency policy programme budget
relationship power knowledge expertise experience decision meeting partnership network evidence outcome
assessment referral support care provision market choice voice participation involvement engagement
governance accountability responsibility legitimacy trust dialogue deliberation consultation design
delivery evaluation review report study inquiry reform legislation framework strategy standard regulation
tribunal hospital clinic school prison probation housing tenancy benefit welfare allowance payment contract
commissioner manager professional volunteer advocate peer mentor group forum panel board committee charity
organisation neighbourhood region authority state government ministry department office sector tradition
history language label category identity status stigma dependency autonomy dignity recognition justice
equality inclusion exclusion poverty disadvantage risk need right duty entitlement obligation resource
capacity resilience wellbeing recovery independence control discretion judgement practice method model
theory concept argument critique claim debate question answer account narrative story interview survey
""")

_ADJECTIVES = _vocabulary("""
collective individual shared personal public private local national professional lay formal informal
critical radical liberal managerial democratic participatory consumerist civic social political economic
cultural historical institutional statutory voluntary mutual reciprocal equal unequal active passive
responsible accountable legitimate transparent meaningful tokenistic genuine partial limited extended
direct indirect early late modern traditional contemporary emerging established contested ambiguous
relational structural procedural substantive symbolic practical theoretical empirical comparative
""")

_VERBS = _vocabulary("""
shapes reframes challenges supports weakens strengthens redistributes conceals reveals questions extends
limits transforms reproduces legitimates undermines enables constrains defines describes measures assumes
""")

_FILLER = _vocabulary("""
the the the of of of and and and to to in in a a that is is for as with on by it this
not but which their from are be was has have its more than how what who when where why also
""")

_PERSONS = _vocabulary("""
client patient customer consumer user member partner citizen tenant resident learner survivor
claimant applicant participant volunteer advocate carer neighbour taxpayer stakeholder
""")

_SURNAMES = _vocabulary("""
Needham Carr Glasby Beresford Croft Barnes Cotterell Ostrom Parks Boyle Harris Alford Bovaird Loeffler
Pestoff Brandsen Verschuere Osborne Strokosch Radnor Fledderus Voorberg Tummers Bekkers Arnstein Lukes
Dahl Bachrach Baratz Foucault Gaventa Rowlands Cornwall Gaventa Fisher Lister Clarke Newman Vidler
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Roberts Johnson Lewis Walker Robinson Wood
Thompson White Watson Jackson Wright Green Harris Cooper King Lee Martin Clark Hall Allen Young Morris
Hill Moore Scott Ward Turner Baker Hughes Edwards Collins Stewart Morgan Murphy Bell Kelly Cook Bailey
""")

_SURNAMES_LATEX = [
    ('M{\\"u}ller', "muller"),
    ("Ren{\\'e}e", "renee"),
    ("Ab{\\'a}solo", "abasolo"),
    ("Nu{\\~n}ez", "nunez"),
    ("{\\O}stergaard", "ostergaard"),
]

_GIVEN = _vocabulary("""
Catherine Sarah Peter Jon Marian Elinor Gordon John Tony Elke Victor Stephen Kirsten Zoe Ewan Robin
Sherry Steven Lisa Ruth Mary Anna David James Michael Helen Claire Susan Paul Mark Richard Andrew
""")

_ORGANISATIONS = [
    "Department of Health",
    "Social Care Institute for Excellence",
    "Think Local Act Personal",
    "National Audit Office",
    "Care Quality Commission",
    "Office for National Statistics",
    "Joseph Rowntree Foundation",
    "Local Government Association",
    "Nesta",
    "The King's Fund",
]

_JOURNALS = [
    "British Journal of Social Work",
    "Public Administration Review",
    "Public Management Review",
    "Policy & Politics",
    "Social Policy and Administration",
    "Critical Social Policy",
    "Journal of Social Policy",
    "Health Expectations",
    "Disability & Society",
    "Voluntas",
]

_PUBLISHERS = [
    ("Policy Press", "Bristol"),
    ("Routledge", "London"),
    ("Palgrave Macmillan", "Basingstoke"),
    ("Sage", "London"),
    ("Oxford University Press", "Oxford"),
    ("Jessica Kingsley", "London"),
]

_COUNTRIES = [
    "United Kingdom",
    "England",
    "Scotland",
    "Wales",
    "Ireland",
    "Netherlands",
    "Belgium",
    "Sweden",
    "Denmark",
    "Australia",
    "New Zealand",
    "Canada",
    "United States",
    "Brazil",
    "India",
]
_PLACES = [
    "Northfield",
    "Eastbrook",
    "Westmoor",
    "Southdale",
    "Kingsford",
    "Riverton",
    "Ashby",
    "Brackley",
    "Carnforth",
    "Dunmore",
    "Elmswell",
    "Fairhaven",
    "Glenridge",
    "Hartley",
    "Ivybridge",
    "Jarrow",
]
_SECTORS = [
    "social-care",
    "health",
    "mental-health",
    "criminal-justice",
    "housing",
    "education",
    "welfare",
    "local-government",
    "community",
    "disability",
    "public-services",
]
_KINDS = ["programme", "service", "policy", "legislation", "report", "study", "initiative"]
_CATEGORIES = ["Power", "Co-production", "Labels", "Citizenship", "Care", "Policy"]
_ENTRY_TYPES = ["article", "book", "incollection", "report", "online"]


# --- The synthetic project ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Shape:
    """How many of each thing a synthetic project of N records holds."""

    records: int
    terms: int
    concepts: int
    cases: int
    arguments: int
    questions: int
    references: int
    essays: int

    @classmethod
    def for_records(cls, records: int) -> Shape:
        """Split N records across the resources (10% terms, 30% concepts, 30% cases, the rest arguments)."""
        if records < 10:
            raise ValueError("the benchmark needs at least 10 records")
        terms, concepts, cases = (
            max(1, round(records * SHARES[name])) for name in ("terms", "concepts", "cases")
        )
        return cls(
            records=records,
            terms=terms,
            concepts=concepts,
            cases=cases,
            arguments=records - terms - concepts - cases,
            questions=max(1, records // RECORDS_PER_QUESTION),
            references=max(4, records // 2),
            essays=max(1, records // 100),
        )


class _Writer:
    """Deterministic random text and names for one synthetic project."""

    def __init__(self, seed: int, keys: list[str]) -> None:
        self.rng = random.Random(seed)
        self.keys = keys

    def words(self, count: int) -> list[str]:
        rng = self.rng
        out = []
        for _ in range(count):
            roll = rng.random()
            pool = (
                _FILLER if roll < 0.45 else _NOUNS if roll < 0.75 else _ADJECTIVES if roll < 0.92 else _VERBS
            )
            out.append(rng.choice(pool))
        return out

    def citation(self) -> str:
        """Return an inline Pandoc citation: with or without a locator, several keys, or a prefix."""
        rng = self.rng
        roll = rng.random()
        key = rng.choice(self.keys)
        if roll < 0.45:
            return f"[@{key}, p. {rng.randint(1, 400)}]"
        if roll < 0.65:
            start = rng.randint(1, 390)
            return f"[@{key}, pp. {start}-{start + rng.randint(1, 9)}]"
        if roll < 0.85:
            others = "; ".join(f"@{k}" for k in rng.sample(self.keys, min(2, len(self.keys))) if k != key)
            return f"[@{key}; {others}]" if others else f"[@{key}]"
        return f"[see @{key}]"

    def sentence(self, *, cite: float = 0.0, lo: int = 8, hi: int = 22, plain: bool = False) -> str:
        """Return one sentence; unless `plain`, with some emphasis, links and (narrative) citations."""
        rng = self.rng
        words = self.words(rng.randint(lo, hi))
        if plain:
            text = " ".join(words)
            return text[0].upper() + text[1:] + "."
        if rng.random() < 0.08:
            i = rng.randrange(len(words))
            words[i] = f"*{words[i]}*"
        if rng.random() < 0.03:
            i = rng.randrange(len(words))
            words[i] = f"[{words[i]}](https://example.org/{words[i].strip('*')})"
        if rng.random() < 0.05:
            return f"@{rng.choice(self.keys)} {rng.choice(_VERBS)} " + " ".join(words) + "."
        text = " ".join(words)
        text = text[0].upper() + text[1:]
        if rng.random() < cite:
            text += " " + self.citation()
        return text + "."

    def text(
        self,
        words: tuple[int, int],
        max_chars: int,
        *,
        paragraphs: tuple[int, int] = (1, 1),
        cite: float = 0.25,
    ) -> str:
        """Return Markdown of about `words` words in a few paragraphs, never longer than `max_chars`."""
        rng = self.rng
        target = rng.randint(*words)
        count = rng.randint(*paragraphs)
        per_paragraph = max(1, target // count)
        paras: list[str] = []
        used = 0
        for _ in range(count):
            sentences: list[str] = []
            length = 0
            while length < per_paragraph:
                sentence = self.sentence(cite=cite)
                if used + len(sentence) + 3 > max_chars:
                    break
                sentences.append(sentence)
                used += len(sentence) + 1
                length += sentence.count(" ") + 1
            if sentences:
                paras.append(" ".join(sentences))
                used += 2
        return "\n\n".join(paras) or self.sentence()[: max_chars - 1].rstrip() + "."

    def questions(self) -> str:
        return "\n".join(f"{self.sentence(lo=6, hi=12)[:-1]}?" for _ in range(self.rng.randint(2, 4)))


def _unique(make: Callable[[int], str], count: int) -> list[str]:
    seen: dict[str, None] = {}
    attempt = 0
    while len(seen) < count:
        seen.setdefault(make(attempt))
        attempt += 1
    return list(seen)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _bib_entries(rng: random.Random, count: int, *, bibtex_types: bool = False) -> Iterator[tuple[str, str]]:
    """Yield (key, BibTeX source) for `count` entries of mixed types.

    With `bibtex_types`, reports and web pages are written as classic BibTeX's ``@techreport`` and ``@misc``
    (same fields, same keys), which pybtex's own styles can format too.
    """
    used: set[str] = set()
    for n in range(count):
        kind = _ENTRY_TYPES[n % len(_ENTRY_TYPES)]
        year = rng.randint(1957, 2025)
        if rng.random() < 0.04:
            surname, ascii_name = rng.choice(_SURNAMES_LATEX)
        else:
            surname = rng.choice(_SURNAMES)
            ascii_name = surname.lower()
        base = f"{ascii_name}{year}"
        key = base
        for suffix in "abcdefghijklmnopqrstuvwxyz":
            if key not in used:
                break
            key = base + suffix
        else:
            key = f"{base}-{n}"
        used.add(key)
        people = " and ".join(
            f"{rng.choice(_SURNAMES) if i else surname}, {rng.choice(_GIVEN)}"
            for i in range(rng.choice((1, 1, 2, 3)))
        )
        words = [rng.choice(_NOUNS if i % 2 else _ADJECTIVES) for i in range(rng.randint(3, 8))]
        title = " ".join(words).capitalize() + rng.choice(
            ("", ": A critical review", ": Evidence from the {UK}")
        )
        fields: list[tuple[str, str]] = []
        if kind == "article":
            fields = [
                ("author", people),
                ("year", str(year)),
                ("title", title),
                ("journal", rng.choice(_JOURNALS)),
                ("volume", str(rng.randint(1, 60))),
                ("number", str(rng.randint(1, 8))),
                ("pages", f"{(p := rng.randint(1, 900))}--{p + 20}"),
                ("doi", f"10.{rng.randint(1000, 9999)}/bench.{n}"),
            ]
        elif kind == "book":
            publisher, address = rng.choice(_PUBLISHERS)
            fields = [
                ("author" if rng.random() < 0.7 else "editor", people),
                ("year", str(year)),
                ("title", title),
                ("publisher", publisher),
                ("address", address),
            ]
        elif kind == "incollection":
            publisher, address = rng.choice(_PUBLISHERS)
            fields = [
                ("author", people),
                ("year", str(year)),
                ("title", title),
                ("booktitle", " ".join(rng.choice(_NOUNS) for _ in range(4)).capitalize()),
                ("editor", f"{rng.choice(_SURNAMES)}, {rng.choice(_GIVEN)}"),
                ("publisher", publisher),
                ("address", address),
                ("pages", f"{(p := rng.randint(1, 300))}--{p + 18}"),
            ]
        elif kind == "report":
            organisation = rng.choice(_ORGANISATIONS)
            fields = [
                ("author", f"{{{organisation}}}"),
                ("year", str(year)),
                ("title", title),
                ("institution", organisation),
                ("number", f"{rng.randint(1, 99)}/{year}"),
                ("url", f"https://example.org/reports/{n}"),
            ]
        else:
            organisation = rng.choice(_ORGANISATIONS)
            fields = [
                ("author", f"{{{organisation}}}"),
                ("year", str(year)),
                ("date", f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"),
                ("title", title),
                ("organization", organisation),
                ("url", f"https://example.org/posts/{n}"),
            ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        written = _BIBTEX_TYPES.get(kind, kind) if bibtex_types else kind
        yield key, f"@{written}{{{key},\n{body}\n}}\n"


#: Classic BibTeX's names for the entry types that only BibLaTeX knows.
_BIBTEX_TYPES = {"report": "techreport", "online": "misc"}


def make_bibliography(count: int, *, seed: int = 1, bibtex_types: bool = False) -> tuple[str, list[str]]:
    """Return the BibTeX source of `count` synthetic entries (article, book, incollection, report, online).

    Args:
        count: How many entries.
        seed: Seed of the synthetic data.
        bibtex_types: Write reports and web pages as ``@techreport`` and ``@misc`` (see `_bib_entries`).

    Returns:
        The source and the keys, in file order.
    """
    entries = list(_bib_entries(random.Random(seed), count, bibtex_types=bibtex_types))
    return "\n".join(source for _key, source in entries), [key for key, _source in entries]


def _link_rows(
    rng: random.Random,
    left: list[str],
    right: list[str],
    per: int,
    names: tuple[str, str],
    *,
    self_ok: bool = True,
) -> list[dict[str, str]]:
    rows = []
    for a in left:
        choices = [b for b in rng.sample(right, min(len(right), per + 1)) if self_ok or b != a][:per]
        rows += [{names[0]: a, names[1]: b} for b in choices]
    return rows


def write_synthetic_project(dest: Path, records: int, *, source: Path, seed: int = 1) -> Shape:
    """Write a synthetic project of `records` records into `dest`.

    The real project's mkdocs.yml, CONTRIBUTING.md, hand-written docs (not its essays) and descriptor are
    copied so that the real pipeline runs; ``scripts/`` is linked to the installed generator because
    mkdocs.yml names the API page's sources by a relative path.

    Args:
        dest: An empty or missing folder.
        records: N, split across terms, concepts, cases and arguments (plus one question per 40).
        source: The real project, whose configuration and descriptor are copied.
        seed: Seed of the random generator (the same seed gives the same project).

    Returns:
        The counts of everything written.
    """
    shape = Shape.for_records(records)
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = source / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("posts"), dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / name)
    scripts = Path(__file__).resolve().parent.parent
    if not (dest / "scripts").exists():
        (dest / "scripts").symlink_to(scripts, target_is_directory=True)
    data = dest / "datapackage"
    data.mkdir(exist_ok=True)
    shutil.copy2(source / "datapackage" / "datapackage.json", data / "datapackage.json")
    descriptor = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    headers = {
        r["name"]: [f["name"] for f in r["schema"]["fields"]]
        for r in descriptor["resources"]
        if "schema" in r
    }

    bib_text, keys = make_bibliography(shape.references, seed=seed)
    (data / "references.bib").write_text(bib_text, encoding="utf-8")
    w = _Writer(seed + 1, keys)
    rng = w.rng

    term_labels = _unique(
        lambda i: f"{rng.choice(_ADJECTIVES)} {rng.choice(_PERSONS)}" + ("" if i < 600 else f" {i}"),
        shape.terms,
    )
    concept_names = _unique(
        lambda i: f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}" + ("" if i < 3000 else f" {i}"),
        shape.concepts,
    )
    # Essays link a name to one page only, so a concept may not be named as a term is labelled.
    labels = {label.lower() for label in term_labels}
    concept_names = [
        f"{name} {i}" if name.lower() in labels else name for i, name in enumerate(concept_names)
    ]
    term_ids = [f"t{i:05d}-{slugify(label)}" for i, label in enumerate(term_labels)]
    concept_ids = [f"c{i:05d}-{slugify(name)}" for i, name in enumerate(concept_names)]
    case_ids = [f"k{i:05d}" for i in range(shape.cases)]
    question_ids = [f"q{i:04d}" for i in range(shape.questions)]
    argument_ids = [f"a{i:05d}" for i in range(shape.arguments)]

    def aliases(record_id: str) -> str:
        return f"{record_id}-old" if rng.random() < 0.02 else ""

    terms = []
    for record_id, label in zip(term_ids, term_labels, strict=True):
        era_start = rng.randint(1850, 2020)
        terms.append(
            {
                "id": record_id,
                "label": label,
                "also_known_as": f"{label}s" if rng.random() < 0.5 else "",
                "definition": w.text((20, 45), 400, cite=0.5),
                "relationship": w.text((80, 180), 1500, paragraphs=(1, 2)),
                "power": w.text((40, 80), 600),
                "sectors": "; ".join(rng.sample(_SECTORS, rng.randint(1, 3))),
                "era": f"c. {era_start}s onwards: " + " ".join(w.words(8)),
                "era_start": str(era_start),
                "history": w.text((130, 360), 6000, paragraphs=(2, 5)),
                "critiques": w.text((130, 360), 6000, paragraphs=(2, 5)),
                "main_critique": w.text((20, 45), 400),
                "discussion_questions": w.questions(),
                "aliases": aliases(record_id),
            }
        )
    concepts = []
    for n, (record_id, name) in enumerate(zip(concept_ids, concept_names, strict=True)):
        concepts.append(
            {
                "id": record_id,
                "name": name,
                "also_known_as": ""
                if rng.random() < 0.6
                else f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {n}",
                "summary": w.text((25, 50), 400),
                "body": w.text((130, 360), 8000, paragraphs=(3, 6)),
                "broader": concept_ids[rng.randrange(n)] if n and rng.random() < 0.3 else "",
                "discussion_questions": w.questions(),
                "aliases": aliases(record_id),
            }
        )
    cases = []
    for n, record_id in enumerate(case_ids):
        start = rng.randint(1945, 2024)
        cases.append(
            {
                "id": record_id,
                "title": f"{rng.choice(_PLACES)} {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} "
                f"{rng.choice(_KINDS)} "
                f"no. {n}",
                "start_year": str(start),
                "end_year": str(min(2025, start + rng.randint(0, 8))) if rng.random() < 0.7 else "",
                "country": rng.choice(_COUNTRIES),
                "sector": rng.choice(_SECTORS),
                "level": rng.choice(("individual", "group", "collective")),
                "kind": rng.choice(_KINDS),
                "summary": w.text((50, 120), 1000),
                "outcomes": w.text((120, 360), 4000, paragraphs=(2, 4)),
                "critiques": w.text((100, 300), 4000, paragraphs=(1, 3)),
                "source_url": f"https://example.org/cases/{record_id}",
                "discussion_questions": w.questions() if rng.random() < 0.7 else "",
                "aliases": aliases(record_id),
            }
        )
    questions = [
        {
            "id": record_id,
            "question": f"Does {rng.choice(concept_names)} {rng.choice(_VERBS).removesuffix('s')} "
            f"{rng.choice(_NOUNS)} (question {n})?",
            "summary": w.text((60, 150), 1500, paragraphs=(1, 2)),
        }
        for n, record_id in enumerate(question_ids)
    ]
    arguments = [
        {
            "id": record_id,
            "question": question_ids[n % len(question_ids)],
            # Every debate has an argument for, against and qualifying it; the rest take a side at random.
            "stance": _STANCES[n // len(question_ids)] if n < 3 * len(question_ids) else rng.choice(_STANCES),
            "claim": w.sentence(lo=10, hi=30, plain=True),
            "reasoning": w.text((120, 360), 4000, paragraphs=(2, 4)),
            "proponent": f"{rng.choice(_SURNAMES)} ({rng.randint(1970, 2025)})",
        }
        for n, record_id in enumerate(argument_ids)
    ]

    citations: list[dict[str, str]] = []
    for name, ids in (
        ("terms", term_ids),
        ("concepts", concept_ids),
        ("cases", case_ids),
        ("questions", question_ids),
        ("arguments", argument_ids),
    ):
        for record_id in ids:
            for key in rng.sample(keys, rng.randint(1, 3)):
                locator = rng.choice(
                    (
                        "",
                        f"p. {rng.randint(1, 400)}",
                        f"pp. {rng.randint(1, 50)}-{rng.randint(51, 99)}",
                        f"chap. {rng.randint(1, 12)}",
                    )
                )
                citations.append({"resource": name, "record": record_id, "key": key, "locator": locator})

    tables = {
        "terms": terms,
        "concepts": concepts,
        "cases": cases,
        "questions": questions,
        "arguments": arguments,
        "term_concepts": _link_rows(rng, term_ids, concept_ids, 3, ("term", "concept")),
        "case_concepts": _link_rows(rng, case_ids, concept_ids, 2, ("case", "concept")),
        "case_terms": _link_rows(rng, case_ids, term_ids, 1, ("case", "term")),
        "argument_concepts": _link_rows(rng, argument_ids, concept_ids, 2, ("argument", "concept")),
        "argument_terms": _link_rows(rng, argument_ids, term_ids, 1, ("argument", "term")),
        "concept_related": _link_rows(
            rng, concept_ids, concept_ids, 1, ("concept", "related"), self_ok=False
        ),
        "citations": citations,
    }
    for entry in descriptor["resources"]:
        if entry["name"] in tables:
            _write_csv(data / entry["path"], headers[entry["name"]], tables[entry["name"]])
        elif "schema" in entry and (source / "datapackage" / entry["path"]).is_file():
            # A table that holds no records (contributors, say) is copied from the real project as it is.
            shutil.copy2(source / "datapackage" / entry["path"], data / entry["path"])

    posts = dest / "docs" / "blog" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    glossary_names = term_labels + concept_names
    for n in range(shape.essays):
        posts.joinpath(f"essay-{n:04d}.md").write_text(_essay(w, n, glossary_names), encoding="utf-8")
    return shape


def _essay(w: _Writer, n: int, names: list[str]) -> str:
    """Return an essay like docs/blog/posts/*.md: front matter, title, excerpt, sections, ~20 citations."""
    rng = w.rng
    date = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(4000))
    title = " ".join(w.words(rng.randint(4, 8))).capitalize()
    parts = [
        "---",
        f"date: {date.isoformat()}",
        "authors:",
        "  - editors",
        "categories:",
        *(f"  - {c}" for c in rng.sample(_CATEGORIES, rng.randint(1, 2))),
        f"description: {w.sentence(lo=12, hi=20, plain=True)}",
        "---",
        "",
        f"# {title} (essay {n})",
        "",
        "",
    ]
    # One sentence per line, and a closing "Discussion questions" section, as the house rules require.
    excerpt = w.text((60, 90), 2000, cite=0.0)[:-1] + " " + w.citation() + "."
    body: list[str] = [re.sub(r"(?<=[.?!]) (?=[A-Z])", "\n", excerpt), "<!-- more -->"]
    cited = 1
    for _section in range(rng.randint(4, 6)):
        body.append(f"## {' '.join(w.words(rng.randint(2, 5))).capitalize()}")
        for _paragraph in range(rng.randint(2, 3)):
            sentences = [w.sentence() for _ in range(rng.randint(3, 6))]
            if rng.random() < 0.5:
                sentences[0] = sentences[0][:-1] + f", as the {rng.choice(names)} debate shows."
            if cited < 20:
                sentences[-1] = sentences[-1][:-1] + " " + w.citation() + "."
                cited += 1
            body.append("\n".join(sentences))
    while cited < 20:
        body.append(w.sentence()[:-1] + " " + w.citation() + ".")
        cited += 1
    # The house rules want at least 800 words of argument (headings and HTML comments left out).
    while sum(len(part.split()) for part in body if not part.startswith("#") and "<!--" not in part) < 820:
        body.append(w.sentence())
    questions = [f"{i}. {w.sentence(plain=True)[:-1]}?" for i in range(1, rng.randint(3, 4) + 1)]
    body.append("## Discussion questions\n\n" + "\n".join(questions))
    return "\n".join(parts) + "\n\n".join(body) + "\n"


# --- Measuring ----------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class StageResult:
    """The cost of one stage.

    Attributes:
        stage: ``load``, ``validate``, ``model``, ``render`` or an engine's name (``properdocs``, ...).
        seconds: Wall-clock time.
        records_per_second: N divided by `seconds`.
        peak_rss_mib: The process's peak resident memory during the stage (MiB).
        detail: Extra figures (for an engine: the HTML pages it wrote and the warnings it gave).
    """

    stage: str
    seconds: float
    records_per_second: float
    peak_rss_mib: float
    detail: dict[str, Any] = field(default_factory=dict)


def _status_kib(name: str) -> int | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else None


def reset_peak_rss() -> bool:
    """Reset the process's peak resident memory (Linux), so the next reading belongs to one stage.

    Returns:
        False where the peak cannot be reset; readings are then peaks since the process started.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    """Return the peak resident memory since the last reset (or since the start), in MiB."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024


def _processor_seconds() -> float:
    """Return the processor time of this process and of its children waited for, in seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_stages(root: Path, records: int, workers: int | None = None) -> tuple[list[StageResult], Any]:
    """Run `coguide.build.generate` on `root`, timing each stage and reading its peak memory.

    Args:
        root: The project.
        records: N, for the records per second.
        workers: How many processes generate (None: one per processor, as ``coguide build`` does).

    Returns:
        One result per stage, and the Generation.

    Raises:
        RuntimeError: The project has errors, so the later stages did not run.
    """
    from coguide.build import generate

    results: list[StageResult] = []

    def report(stage: str, seconds: float) -> None:
        results.append(
            StageResult(
                stage=stage,
                seconds=seconds,
                records_per_second=records / max(seconds, 1e-9),
                peak_rss_mib=round(peak_rss_mib(), 1),
            )
        )
        reset_peak_rss()

    reset_peak_rss()
    generation = generate(root, report=report, workers=workers)
    if not generation.ok:
        lines = "\n".join(p.format() for p in generation.problems if p.severity == "error")
        raise RuntimeError(f"the synthetic project does not pass coguide check:\n{lines}")
    return results, generation


#: The issue's target for the average record page, in KiB of Markdown.
RECORD_PAGE_TARGET_KIB = 10
#: The record pages' resources (labels, concepts, cases), which are also their folders in the docs tree.
RECORD_FOLDERS = ("terms", "concepts", "cases")


def record_page_sizes(out_dir: Path, site: Any) -> dict[str, Any]:
    """Return how many record pages (labels, concepts, cases) the generator wrote and their average size.

    A record page is the page of one of the model's labels, concepts or cases; its size is the file's, front
    matter included, in KiB.
    """
    sizes = [
        (out_dir / record.src_uri).stat().st_size
        for resource in RECORD_FOLDERS
        for record in getattr(site, resource).values()
    ]
    average = sum(sizes) / len(sizes) / 1024 if sizes else 0.0
    return {"pages": len(sizes), "average_kib": round(average, 2), "target_kib": RECORD_PAGE_TARGET_KIB}


_CHILD = "import sys; from coguide.tools.bench import engine_child; engine_child(sys.argv[1], sys.argv[2], sys.argv[3])"


def engine_child(root: str, engine: str, site_dir: str) -> None:
    """Build the docs tree the generator wrote in `root` with `engine` into `site_dir`; print the cost as JSON.

    Runs in a process of its own (see `measure_engine`) so that its peak memory is its own and so that each
    engine starts from a fresh interpreter, as `coguide build` does. An engine that builds in a process of
    its own (Zensical) is charged that process's peak memory too.
    """
    from coguide.build import GENERATED_DIR
    from coguide.engines.base import get_engine

    adapter = get_engine(engine)
    timing = getattr(adapter, "timed_steps", None)  # an engine in Python: its own steps are timed too
    with timing() if timing is not None else contextlib.nullcontext(None) as steps:
        start = time.perf_counter()
        result = adapter.build(Path(root), Path(root) / GENERATED_DIR, Path(site_dir), strict=True)
        seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "ok": result.ok,
                "error": result.error,
                "warnings": list(result.warnings),
                "seconds": seconds,
                "html_pages": sum(1 for _ in Path(site_dir).rglob("*.html")),
                "peak_rss_mib": max(peak_rss_mib(), children),
                "steps": steps,
            }
        )
    )


def measure_engine(root: Path, records: int, engine: str) -> StageResult:
    """Build the generated docs tree with `engine` (strict, as `coguide build` does) in a fresh process.

    The generator must have written the tree already (`measure_stages`); the stage is named after the engine.

    Raises:
        RuntimeError: The build failed; the message ends with the engine's last warnings or output.
    """
    # The child imports coguide from where this module is, installed or not.
    package_dir = str(Path(__file__).resolve().parent.parent.parent)
    python_path = os.pathsep.join(filter(None, (package_dir, os.environ.get("PYTHONPATH"))))
    env = {
        **os.environ,
        "PYTHONPATH": python_path,
        "NO_MKDOCS_2_WARNING": "1",
        "DISABLE_MKDOCS_2_WARNING": "true",
    }
    with tempfile.TemporaryDirectory(prefix="coguide-bench-site-", dir=root) as site_dir:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(root), engine, site_dir],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        child = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"the {engine} build of the synthetic project failed:\n{tail}") from None
    if not child["ok"]:
        tail = "\n".join([*child["warnings"][-10:], child["error"]])
        raise RuntimeError(f"the {engine} build of the synthetic project failed:\n{tail}")
    return StageResult(
        stage=engine,
        seconds=child["seconds"],
        records_per_second=records / max(child["seconds"], 1e-9),
        peak_rss_mib=round(child["peak_rss_mib"], 1),
        detail={
            "engine": engine,
            "html_pages": child["html_pages"],
            "warnings": len(child["warnings"]),
            "steps": child.get("steps"),
        },
    )


@dataclass(frozen=True, kw_only=True)
class CitationWorkload:
    """The input of the citation benchmarks: a ``.bib`` and pages of Pandoc citations.

    Attributes:
        bib_text: BibTeX source of the entries (classic BibTeX types, which the mkdocs-bibtex plugin's
            pybtex style can also format).
        keys: The entries' keys, in file order.
        pages: Markdown of each page: sentences that each end with one citation.
        per_page: Citations written on each page.
    """

    bib_text: str
    keys: list[str]
    pages: list[str]
    per_page: int


def citation_workload(
    entries: int = 1000, pages: int = 1000, per_page: int = 20, *, seed: int = 7
) -> CitationWorkload:
    """Write the citation benchmarks' input: `pages` pages of `per_page` citations against `entries` entries.

    The citations are those of the synthetic project (``[@key, p. 12]``, ``[@key, pp. 3-4]``,
    ``[@a; @b]``, ``[see @key]``, and now and then a narrative ``@key``): Pandoc's syntax, which is
    also the mkdocs-bibtex plugin's.
    """
    bib_text, keys = make_bibliography(entries, seed=seed, bibtex_types=True)
    w = _Writer(seed, keys)
    texts = []
    for _ in range(pages):
        sentences = [w.sentence() for _ in range(per_page)]
        texts.append(" ".join(s[:-1] + " " + w.citation() + "." for s in sentences))
    return CitationWorkload(bib_text=bib_text, keys=keys, pages=texts, per_page=per_page)


def measure_citations(workload: CitationWorkload | None = None) -> dict[str, Any]:
    """Time our citation processing: parse a .bib, then render pages of citations to HTML.

    Pages are rendered to HTML with links and tooltips, as the site renders them. The cache of scanned
    texts is emptied first, so that finding the citations is charged too.

    Args:
        workload: The input (default: `citation_workload()`, 1,000 entries and 1,000 pages of 20).

    Returns:
        Seconds for the parse, the rendering and both, and the processor time of both (which other work
        on a shared machine slows far less than the wall clock).
    """
    from coguide.cite import Bibliography, citations

    work = workload or citation_workload()
    citations.clear_caches()
    cpu_start = time.process_time()
    start = time.perf_counter()
    bib, problems = Bibliography.parse(work.bib_text)
    parsed = time.perf_counter()
    if problems:
        raise RuntimeError(f"the synthetic bibliography has problems: {problems[:3]}")
    cited = 0
    for text in work.pages:
        _rendered, found = bib.render_text(text, "html", lambda key: f"../bibliography/#{key}")
        cited += len(found)
    done = time.perf_counter()
    cpu = time.process_time() - cpu_start
    return {
        "entries": len(work.keys),
        "pages": len(work.pages),
        "citations_per_page": work.per_page,
        "distinct_keys_cited": cited,
        "parse_seconds": round(parsed - start, 3),
        "render_seconds": round(done - parsed, 3),
        "seconds": round(done - start, 3),
        "cpu_seconds": round(cpu, 3),
    }


#: The mkdocs-bibtex plugin's package (`pip install -e '.[bench]'`) and the import name of its module.
BIBTEX_PLUGIN = ("mkdocs-bibtex", "mkdocs_bibtex")
#: Our citation processing may take at most this share of what the plugin adds to a build (issue 15).
BIBTEX_PLUGIN_TARGET = 1 / 50

_MKDOCS_CHILD = "import sys; from coguide.tools.bench import mkdocs_child; mkdocs_child(sys.argv[1])"


def mkdocs_child(config_file: str) -> None:
    """Build a plain MkDocs project and print its cost as JSON (runs in a process of its own).

    The clock starts once MkDocs is imported and covers loading the configuration (which loads the
    plugins) and the build. Warnings are counted, not printed: the mkdocs-bibtex plugin warns once for
    each citation with a prefix or a locator, which its pybtex mode ignores.
    """
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    class Counter(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: dict[str, int] = {}

        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage().split(":", 1)[0][:80]
            self.messages[message] = self.messages.get(message, 0) + 1

    counter = Counter()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(counter)
    logger.propagate = False
    cpu_start = time.process_time()
    start = time.perf_counter()
    config = load_config(config_file)
    build(config)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    site = Path(config.site_dir)
    html_files = list(site.rglob("*.html"))
    footnotes = sum(f.read_text(encoding="utf-8").count('class="footnote-ref"') for f in html_files)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "html_pages": len(html_files),
                "footnote_refs": footnotes,
                "warnings": counter.messages,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


def _run_mkdocs_child(config_file: Path) -> dict[str, Any]:
    package_dir = str(Path(__file__).resolve().parent.parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (package_dir, os.environ.get("PYTHONPATH")))),
        "NO_MKDOCS_2_WARNING": "1",
        "DISABLE_MKDOCS_2_WARNING": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", _MKDOCS_CHILD, str(config_file)],
        cwd=config_file.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"the MkDocs build of {config_file.name} failed:\n{tail}") from None


def bibtex_plugin_installed() -> bool:
    """Return True when the mkdocs-bibtex plugin can be imported."""
    import importlib.util

    return importlib.util.find_spec(BIBTEX_PLUGIN[1]) is not None


def measure_bibtex_plugin(workload: CitationWorkload, workdir: Path, ours: dict[str, Any]) -> dict[str, Any]:
    """Time what the archived mkdocs-bibtex plugin adds to an MkDocs build of the workload's pages.

    The pages (one Markdown file each, as written) and the ``.bib`` go into a plain MkDocs project
    (MkDocs's own theme, the ``footnotes`` extension the plugin needs, no other plugin), which is built
    twice, each time in a fresh process: without plugins, then with ``bibtex`` in its default
    configuration (no CSL file, so pybtex formats the references and Pandoc is not needed). What the plugin
    adds is the difference.

    Args:
        workload: The input, the same as `measure_citations` was given.
        workdir: An empty or missing folder for the project and its two sites.
        ours: Our citation processing of the same workload, measured in the same run (`measure_citations`).

    Returns:
        Both builds' seconds, processor seconds, pages and peak memory, what the plugin adds, and the ratio of
        ours to it, by the wall clock and by processor time.

    Raises:
        RuntimeError: The plugin is not installed, or a build failed.
    """
    if not bibtex_plugin_installed():
        raise RuntimeError(
            f"the {BIBTEX_PLUGIN[0]} plugin is not installed; install it with "
            f"`.venv/bin/pip install -e '.[bench]'` (or drop --bibtex-plugin)"
        )
    from importlib.metadata import version

    docs = workdir / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (workdir / "refs.bib").write_text(workload.bib_text, encoding="utf-8")
    docs.joinpath("index.md").write_text("# Citations\n", encoding="utf-8")
    for n, text in enumerate(workload.pages):
        docs.joinpath(f"page-{n:04d}.md").write_text(f"# Page {n}\n\n{text}\n", encoding="utf-8")
    common = "site_name: Citations\ndocs_dir: docs\nmarkdown_extensions:\n  - footnotes\n"
    configs = {
        "without": common + "site_dir: site-without\nplugins: []\n",
        "with": common + "site_dir: site-with\nplugins:\n  - bibtex:\n      bib_file: refs.bib\n",
    }
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    builds = {}
    for name, text in configs.items():
        config_file = workdir / f"mkdocs-{name}.yml"
        config_file.write_text(text, encoding="utf-8")
        builds[name] = _run_mkdocs_child(config_file)
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    if builds["with"]["footnote_refs"] == 0:
        raise RuntimeError("the build with the mkdocs-bibtex plugin turned no citation into a footnote")
    added = builds["with"]["seconds"] - builds["without"]["seconds"]
    added_cpu = builds["with"]["cpu_seconds"] - builds["without"]["cpu_seconds"]
    return {
        "plugin": f"{BIBTEX_PLUGIN[0]} {version(BIBTEX_PLUGIN[0])}",
        "pages": len(workload.pages),
        "entries": len(workload.keys),
        "citations_per_page": workload.per_page,
        "without_plugin": builds["without"],
        "with_plugin": builds["with"],
        "plugin_adds_seconds": round(added, 3),
        "plugin_adds_cpu_seconds": round(added_cpu, 3),
        "ours_seconds": ours["seconds"],
        "ours_cpu_seconds": ours["cpu_seconds"],
        "ratio": round(ours["seconds"] / added, 4) if added > 0 else None,
        "cpu_ratio": round(ours["cpu_seconds"] / added_cpu, 4) if added_cpu > 0 else None,
        "target_ratio": BIBTEX_PLUGIN_TARGET,
        "load_average": {"before": load_before, "after": load_after},
    }


_ID_CHARS = "a-z0-9-"


def _mentions(path: Path, pattern: re.Pattern[bytes]) -> bool:
    """Return True when a generated file (or, for a zip archive, one of its members) matches `pattern`."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(pattern.search(archive.read(name)) for name in archive.namelist())
    return pattern.search(path.read_bytes()) is not None


def _edit_summary(root: Path, record_id: str, prefix: str) -> str:
    """Put `prefix` before one concept's summary in concepts.csv; return the file's former text."""
    path = root / "datapackage" / "concepts.csv"
    original = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(original)))
    for row in rows:
        if row["id"] == record_id:
            row["summary"] = prefix + row["summary"][: 400 - len(prefix)]
    _write_csv(path, list(rows[0]), rows)
    return original


def measure_incremental(root: Path, generation: Any) -> dict[str, Any]:
    """Edit one concept's summary and regenerate with a kept generator, as `coguide serve` does.

    A `Generator` in one process, as ``coguide serve`` keeps it, first generates the whole tree (the full
    generation the edit is compared with), then runs
    again with nothing changed, then after the edit. A file "shows" the concept when its content before the
    edit names the concept's id (its own page, the index, every page that links to it, and the data
    exports); every file rewritten must be one of these.

    Returns:
        The seconds taken (and their share of the full generation), the pages rendered and rewritten, and
        the pages that show the record.
    """
    from coguide.build import Generator

    site = generation.site
    concept = list(site.concepts.values())[len(site.concepts) // 2]
    pattern = re.compile(rf"(?<![{_ID_CHARS}]){re.escape(concept.id)}(?![{_ID_CHARS}])".encode())
    out_dir = generation.out_dir
    showing = sorted(
        p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file() and _mentions(p, pattern)
    )

    generator = Generator(root)
    start = time.perf_counter()
    full = generator.run()
    full_seconds = time.perf_counter() - start
    start = time.perf_counter()
    unchanged = generator.run()
    unchanged_seconds = time.perf_counter() - start

    original = _edit_summary(root, concept.id, "An edited summary: ")
    start = time.perf_counter()
    edited = generator.run()
    seconds = time.perf_counter() - start
    (root / "datapackage" / "concepts.csv").write_text(original, encoding="utf-8")
    generator.run()
    outside = sorted(set(edited.written) - set(showing))
    return {
        "record": f"concepts/{concept.id}",
        "seconds": round(seconds, 3),
        "stages": {stage: round(value, 3) for stage, value in edited.timings.items()},
        "full_seconds": round(full_seconds, 3),
        "share_of_full": round(seconds / full_seconds, 3),
        "unchanged_seconds": round(unchanged_seconds, 3),
        "unchanged_written": len(unchanged.written),
        "unchanged_rendered": len(unchanged.rendered),
        "rendered": len(edited.rendered),
        "written": sorted(edited.written),
        "pages_showing_record": len(showing),
        "written_outside_affected": outside,
        "only_affected": not outside and not unchanged.written and concept.src_uri in edited.written,
        "generated_files": len(full.files),
        "generated_pages": sum(1 for _ in out_dir.rglob("*.md")),
        "target_share": 0.15,
    }


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fetch(url: str) -> bytes | None:
    """Return the body of `url`, or None when the server does not answer it (yet)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except (OSError, ValueError):
        return None


#: What ``coguide serve`` logs for an edit: the generator's run and the engine's rebuild (or why a full one).
_SERVE_STEP = re.compile(
    r"Regenerated \d+ of|Rebuilt \d+ (changed )?page|Rebuilding the whole site|Built the whole"
)
#: What ``coguide serve`` logs when the site is complete again after an edit.
_SERVE_DONE = re.compile(r"the site is complete|Built the whole site")


def _server_log(log: Any) -> str:
    """Return what the server has written to `log` so far, without moving the offset the server writes at."""
    size = os.fstat(log.fileno()).st_size
    return os.pread(log.fileno(), size, 0).decode("utf-8", "replace")


def measure_serve(
    root: Path, *, engine: str | None = None, rounds: int = 3, timeout: float = 300.0
) -> dict[str, Any]:
    """Time an edit under ``coguide serve``, from saving the file to the new text being served over HTTP.

    Starts ``coguide serve`` on a free port in `root`, waits until a concept's page is served, then `rounds`
    times puts a new marker into that concept's summary and polls the page every 20 ms until the marker is in
    it (the generator's regeneration and the engine's rebuild both included). The page being polled is the
    page being viewed, which the server rebuilds and serves first; the time until the server logs that the
    whole site is complete again is measured too. The server is stopped and the data file restored at the end.

    Args:
        root: A project that builds (the real one or a synthetic one).
        engine: The engine to serve with (default: the project's default).
        rounds: How many edits to time.
        timeout: Seconds to wait for the first build, and for each edit.

    Returns:
        The seconds of each edit until it was served, their median, the seconds until the site was complete
        (``complete_seconds``), the engine, and the lines the server logged for its builds (``server_said``:
        the generator's time and the engine's, and whether it rebuilt page by page).

    Raises:
        RuntimeError: The server did not start, or an edit did not show within `timeout` seconds.
    """
    import signal
    import statistics

    from coguide.engines.base import DEFAULT_ENGINE
    from coguide.model import SECTION
    from coguide.source.load import load_project

    engine = engine or DEFAULT_ENGINE
    sources = load_project(root)
    rows = sources.tables["concepts"].rows
    concept = rows[len(rows) // 2].values["id"]
    port = _free_port()
    url = f"http://127.0.0.1:{port}/{SECTION['concepts']}/{concept}/"
    command = [sys.executable, "-m", "coguide.cli", "--project", str(root), "serve", "--engine", engine]
    command += ["--dev-addr", f"127.0.0.1:{port}"]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally clause below)
    server = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    original = (root / "datapackage" / "concepts.csv").read_text(encoding="utf-8")
    times: list[float] = []
    complete: list[float] = []
    try:
        start = time.perf_counter()
        while _fetch(url) is None:
            if server.poll() is not None or time.perf_counter() - start > timeout:
                raise RuntimeError(f"coguide serve did not serve {url}:\n" + _server_log(log)[-3000:])
            time.sleep(0.2)
        first_build = time.perf_counter() - start
        for n in range(rounds):
            time.sleep(1.0)  # let the server settle, as a person would between edits
            marker = f"Served edit marker {n} {os.getpid()}."
            done = len(_SERVE_DONE.findall(_server_log(log)))
            _edit_summary(root, concept, marker + " ")
            start = time.perf_counter()
            while marker.encode() not in (_fetch(url) or b""):
                if server.poll() is not None or time.perf_counter() - start > timeout:
                    raise RuntimeError(f"the edit did not show at {url} within {timeout:.0f}s")
                time.sleep(0.02)
            times.append(time.perf_counter() - start)
            while len(_SERVE_DONE.findall(_server_log(log))) <= done:
                if server.poll() is not None or time.perf_counter() - start > timeout:
                    raise RuntimeError(f"the site was not complete within {timeout:.0f}s of the edit")
                time.sleep(0.02)
            complete.append(time.perf_counter() - start)
        said = _server_log(log)
    finally:
        (root / "datapackage" / "concepts.csv").write_text(original, encoding="utf-8")
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
    return {
        "engine": engine,
        "record": f"concepts/{concept}",
        "first_build_seconds": round(first_build, 3),
        "edit_seconds": [round(t, 3) for t in times],
        "median_seconds": round(statistics.median(times), 3),
        "complete_seconds": [round(t, 3) for t in complete],
        # What the server said it did: the generator's runs, then the engine's rebuilds (or why a full one).
        "server_said": [line.strip() for line in said.splitlines() if _SERVE_STEP.search(line)],
    }


def machine() -> dict[str, Any]:
    """Describe the machine: processors, memory, CPU model and Python."""
    cpu = ""
    memory = None
    try:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gib": memory,
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _warm_up(source: Path) -> float:
    """Run the generator once on a tiny project so that import costs are not charged to the first stage."""
    from coguide.build import generate

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coguide-bench-warm-") as tmp:
        write_synthetic_project(Path(tmp), 20, source=source, seed=99)
        generate(Path(tmp))
    return time.perf_counter() - start


def run_benchmark(
    records: int,
    *,
    source: Path,
    workdir: Path,
    engines: tuple[str, ...] = (),
    incremental: bool = True,
    citations: tuple[int, int, int] | None = (1000, 1000, 20),
    bibtex_plugin: bool = False,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Generate a synthetic project in `workdir` and measure every stage.

    Args:
        records: N.
        source: The real project (configuration, hand-written docs and descriptor are copied from it).
        workdir: Where to write the synthetic project (an empty or missing folder).
        engines: The site engines to time the build of the generated tree with, one after the other
            (none: the generator's stages only).
        incremental: Also time regenerating after a one-record edit.
        citations: Entries, pages and citations per page of the citation micro-benchmark (None: skip it).
        bibtex_plugin: Also build the micro-benchmark's pages with MkDocs with and without the archived
            mkdocs-bibtex plugin (`measure_bibtex_plugin`), in `workdir`'s ``bibtex-plugin`` folder.
        seed: Seed of the synthetic data.
        progress: Called with a short line as each step starts.
        workers: How many processes generate the tree whose stages are timed (None: one per processor, as
            ``coguide build`` does); the processor time of all of them is reported too.

    Returns:
        The results, ready to be written as JSON.
    """
    from coguide.source.validate import check_project

    say = progress or (lambda _line: None)
    # Other work on the machine slows every stage; the load averages say how busy it was.
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    say("warming up (imports, first run)")
    warm_up = _warm_up(source)
    say(f"writing a synthetic project of {records} records in {workdir}")
    start = time.perf_counter()
    shape = write_synthetic_project(workdir, records, source=source, seed=seed)
    written_in = time.perf_counter() - start
    errors = [p for p in check_project(workdir) if p.severity == "error"]
    if errors:
        raise RuntimeError(
            "the synthetic project does not pass coguide check:\n"
            + "\n".join(p.format() for p in errors[:20])
        )
    say("timing load, validate, model, render")
    cpu_before = _processor_seconds()
    stages, generation = measure_stages(workdir, records, workers)
    cpu = _processor_seconds() - cpu_before
    say(", ".join(f"{s.stage} {s.seconds:.2f}s" for s in stages))
    for engine in engines:
        say(f"timing the {engine} build (in a separate process)")
        stages.append(measure_engine(workdir, records, engine))
        say(f"{engine} {stages[-1].seconds:.2f}s")
    cites = plugin = None
    if citations is not None:
        say("timing citation processing")
        workload = citation_workload(*citations)
        cites = measure_citations(workload)
        if bibtex_plugin:
            say("timing MkDocs builds of the same pages without and with the mkdocs-bibtex plugin")
            plugin = measure_bibtex_plugin(workload, workdir / "bibtex-plugin", cites)
            shutil.rmtree(workdir / "bibtex-plugin")
    edit = None
    if incremental:
        say("timing a one-record edit")
        edit = measure_incremental(workdir, generation)
    ours = sum(s.seconds for s in stages if s.stage in STAGES)
    if edit is not None:
        edit["share_of_ours"] = round(edit["seconds"] / ours, 3)
    return {
        "records": records,
        "shape": asdict(shape),
        "machine": machine(),
        "load_average": {
            "before": load_before,
            "after": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "peak_rss_per_stage": _status_kib("VmHWM") is not None,
        "warm_up_seconds": round(warm_up, 3),
        "write_project_seconds": round(written_in, 3),
        "generated_pages": len(generation.written),
        "record_pages": record_page_sizes(generation.out_dir, generation.site),
        "stages": [asdict(s) for s in stages],
        "ours_seconds": round(ours, 3),
        "ours_cpu_seconds": round(cpu, 3),
        "processes": generation.helpers + 1,
        "helpers_private_mib": [round(m, 1) for m in generation.helpers_private_mib if m is not None],
        "citations": cites,
        "bibtex_plugin": plugin,
        "incremental": edit,
    }


# --- Reporting ----------------------------------------------------------------------------------------------


def format_report(result: dict[str, Any]) -> str:
    """Return the results as a text table with the citation and incremental figures below it."""
    shape = result["shape"]
    lines = [
        f"coguide bench: {shape['records']:,} records ({shape['terms']:,} terms, "
        f"{shape['concepts']:,} concepts, "
        f"{shape['cases']:,} cases, {shape['arguments']:,} arguments) + {shape['questions']:,} questions, "
        f"{shape['references']:,} references, {shape['essays']:,} essays; "
        f"{result['generated_pages']:,} generated pages",
        "",
        f"{'stage':<10} {'seconds':>9} {'records/s':>11} {'ms/record':>10} {'peak RSS MiB':>13}",
    ]
    engines = [s for s in result["stages"] if s["stage"] not in STAGES]
    for s in result["stages"]:
        if engines and s is engines[0]:
            lines.append(
                f"{'ours':<10} {result['ours_seconds']:>9.2f} "
                f"{result['records'] / max(result['ours_seconds'], 1e-9):>11,.0f} "
                f"{1000 * result['ours_seconds'] / result['records']:>10.2f}"
            )
        lines.append(
            f"{s['stage']:<10} {s['seconds']:>9.2f} {s['records_per_second']:>11,.0f} "
            f"{1000 * s['seconds'] / result['records']:>10.2f} {s['peak_rss_mib']:>13,.0f}"
        )
    if not engines:
        lines.append(f"{'ours':<10} {result['ours_seconds']:>9.2f}")
    if "processes" in result:
        helpers = result["helpers_private_mib"]
        lines.append(
            f"  ours ran in {result['processes']} process(es)"
            + (
                f" (the helpers' own memory at their end: {', '.join(f'{m:,.0f}' for m in helpers)} MiB)"
                if helpers
                else ""
            )
            + f"; processor time of our stages, all processes: {result['ours_cpu_seconds']:.2f}s"
        )
    first = engines[0] if engines else None
    for s in engines:
        d = s["detail"]
        ratio = (
            f"; {s['seconds'] / max(first['seconds'], 1e-9):.2f} x {first['stage']}" if s is not first else ""
        )
        lines.append(
            f"  {s['stage']}: {d['html_pages']:,} HTML pages, {d['warnings']} warning(s); "
            f"ours / {s['stage']} = {result['ours_seconds'] / max(s['seconds'], 1e-9):.1%}{ratio}"
        )
        if d.get("steps"):
            lines.append(f"  {s['stage']}'s own steps: {engine_steps_line(d['steps'], s['seconds'])}")
    pages = result.get("record_pages")
    if pages and pages["pages"]:
        lines.append(
            f"record pages (labels, concepts, cases): {pages['pages']:,}, {pages['average_kib']:.1f} KB of "
            f"Markdown on average (target <= {pages['target_kib']} KB)"
        )
    c = result["citations"]
    if c:
        lines += [
            "",
            f"citations: parse {c['entries']:,} entries {c['parse_seconds']:.2f}s + "
            f"render {c['pages']:,} pages x "
            f"{c['citations_per_page']} citations {c['render_seconds']:.2f}s = {c['seconds']:.2f}s "
            f"(processor {c['cpu_seconds']:.2f}s)",
        ]
    b = result.get("bibtex_plugin")
    if b:
        without, with_ = b["without_plugin"], b["with_plugin"]
        warnings = sum(with_["warnings"].values())

        def ratio(value: float | None) -> str:
            return f"{value:.4f} = 1/{1 / value:.0f}" if value else "n/a"

        lines += [
            f"{b['plugin']}: MkDocs builds the same {b['pages']:,} pages in {without['seconds']:.2f}s "
            f"without it, {with_['seconds']:.2f}s with it ({with_['footnote_refs']:,} footnote citations, "
            f"{warnings:,} warning(s)); it adds {b['plugin_adds_seconds']:.2f}s "
            f"(processor {b['plugin_adds_cpu_seconds']:.2f}s)",
            f"  ours / plugin = {b['ours_seconds']:.2f}s / {b['plugin_adds_seconds']:.2f}s = {ratio(b['ratio'])}; "
            f"processor {b['ours_cpu_seconds']:.2f}s / {b['plugin_adds_cpu_seconds']:.2f}s = "
            f"{ratio(b['cpu_ratio'])} (target <= 1/{1 / b['target_ratio']:.0f})",
            f"  peak RSS without/with {without['peak_rss_mib']:,.0f} / {with_['peak_rss_mib']:,.0f} MiB; "
            f"load average before/after the two builds: {_loads(b['load_average']['before'])} / "
            f"{_loads(b['load_average']['after'])}",
        ]
    inc = result["incremental"]
    if inc:
        lines.append(
            f"edit one record ({inc['record']}) -> regenerate: {inc['seconds']:.2f}s = "
            f"{inc['share_of_full']:.0%} of a full generation in one process, as coguide serve makes it "
            f"({inc['full_seconds']:.2f}s; target <= {inc['target_share']:.0%})"
            + (f", {inc['share_of_ours']:.0%} of ours above" if "share_of_ours" in inc else "")
            + f", {inc['rendered']} of {inc['generated_files']} files rendered, "
            f"{len(inc['written'])} rewritten, all among the {inc['pages_showing_record']} that show it: "
            f"{inc['only_affected']} (no edit: {inc['unchanged_seconds']:.2f}s, {inc['unchanged_rendered']} "
            f"rendered, {inc['unchanged_written']} rewritten)"
        )
    served = result.get("serve")
    if served:
        lines.append(
            f"coguide serve ({served['engine']}): edit -> new text served in "
            + ", ".join(f"{t:.2f}s" for t in served["edit_seconds"])
            + f" (median {served['median_seconds']:.2f}s; first build {served['first_build_seconds']:.1f}s); "
            + "site complete in "
            + ", ".join(f"{t:.2f}s" for t in served.get("complete_seconds", ()))
        )
    load = result["load_average"]
    lines.append(
        f"warm-up (imports + a 20-record run): {result['warm_up_seconds']:.2f}s; "
        f"peak RSS per stage: {'yes' if result['peak_rss_per_stage'] else 'no (process peaks)'}; "
        f"load average before/after: {_loads(load['before'])} / {_loads(load['after'])} "
        f"on {result['machine']['nproc']} processors"
    )
    return "\n".join(lines)


def engine_steps_line(steps: dict[str, Any], total: float) -> str:
    """Say where an engine's build spent its time, from what `timed_steps` measured."""
    sec = steps["seconds"]
    folders = steps["markdown_by_folder"]
    records = sum(folders.get(f, 0.0) for f in RECORD_FOLDERS)
    others = [item for item in folders.items() if item[0] not in RECORD_FOLDERS]
    largest = max(others, key=lambda item: item[1], default=("", 0.0))
    rest = total - sec["populate"] - sec["build_pages"]
    return (
        f"reading pages and front matter {sec['read']:.2f}s; Markdown {sec['markdown']:.2f}s "
        f"({sec['markdown'] / max(total, 1e-9):.0%}; record pages {records:.2f}s, "
        f"the largest other folder {largest[0] or '-'} {largest[1]:.2f}s); "
        f"plugins' page events {sec['populate'] - sec['read'] - sec['markdown']:.2f}s; "
        f"theme, plugins and writing of each page {sec['build_pages']:.2f}s (the search index "
        f"{sec['search']:.2f}s); the rest (configuration, navigation, assets, index pages) {rest:.2f}s"
    )


def _loads(values: list[float] | tuple[float, ...] | None) -> str:
    return " ".join(f"{v:.1f}" for v in values) if values else "n/a"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument(
        "--records",
        type=int,
        action="append",
        help="N, the number of synthetic records (default 1000); repeat it (--records 1000 --records 4000) "
        "to measure several sizes, each in a process of its own, and compare their cost per record",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--keep", metavar="DIR", help="write the synthetic project to DIR and keep it")
    from coguide.engines.base import DEFAULT_ENGINE, ENGINES

    parser.add_argument(
        "--engine",
        dest="engines",
        action="append",
        choices=(*ENGINES, "all"),
        help=f"time the build with this engine (repeat it to compare engines; all: {', '.join(ENGINES)}; "
        f"default: {DEFAULT_ENGINE})",
    )
    parser.add_argument(
        "--no-engine",
        dest="engine_build",
        action="store_false",
        help="time the generator's stages only, no engine build",
    )
    parser.add_argument(
        "--incremental",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time regenerating after a one-record edit (default: yes)",
    )
    parser.add_argument(
        "--citations",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time our citation processing: 1,000 pages of 20 citations, 1,000 entries (default: yes)",
    )
    parser.add_argument(
        "--bibtex-plugin",
        action="store_true",
        help="also build those pages with MkDocs without and with the archived mkdocs-bibtex plugin and "
        "compare what it adds with our citation processing (needs `pip install -e '.[bench]'`)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default 1)")
    from coguide.cli import positive_int

    parser.add_argument(
        "--workers",
        type=positive_int,
        help="how many processes generate the tree whose stages are timed (default: one per processor, "
        "as coguide build)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="also time an edit under coguide serve, from saving the file to the new text being served",
    )


def per_record_ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compare each stage's cost per record in every run with the smallest run's.

    Returns:
        One row per stage and larger size: seconds and peak memory at both sizes, the ratio of the cost per
        record, and the target (issue 15: 1.15 up to four times the records, 1.2 up to ten times).
    """
    ordered = sorted(results, key=lambda r: r["records"])
    base = ordered[0]

    def per_stage(result: dict[str, Any]) -> dict[str, tuple[float, float | None]]:
        stages = {s["stage"]: (s["seconds"], s["peak_rss_mib"]) for s in result["stages"]}
        stages["ours"] = (result["ours_seconds"], None)
        return stages

    rows = []
    base_stages = per_stage(base)
    for result in ordered[1:]:
        scale = result["records"] / base["records"]
        for stage, (seconds, peak) in per_stage(result).items():
            if stage not in base_stages or base_stages[stage][0] <= 0:
                continue
            base_seconds, base_peak = base_stages[stage]
            rows.append(
                {
                    "stage": stage,
                    "base_records": base["records"],
                    "records": result["records"],
                    "base_seconds": base_seconds,
                    "seconds": seconds,
                    "base_peak_rss_mib": base_peak,
                    "peak_rss_mib": peak,
                    "ratio": round(seconds / scale / base_seconds, 3),
                    "target": 1.15 if scale <= 4 else 1.2 if scale <= 10 else None,
                }
            )
    return rows


def format_ratios(rows: list[dict[str, Any]]) -> str:
    """Return the per-record ratios as a text table."""
    lines = [
        "cost per record against the smallest run (targets: 4x the records <= 1.15, 10x <= 1.2)",
        "",
        f"{'stage':<10} {'records':>15} {'seconds':>17} {'peak RSS MiB':>17} {'per record':>11} {'target':>7}",
    ]
    for row in rows:
        peaks = (
            f"{row['base_peak_rss_mib']:,.0f} -> {row['peak_rss_mib']:,.0f}" if row["peak_rss_mib"] else ""
        )
        target = row["target"]
        verdict = "" if target is None else ("met" if row["ratio"] <= target else "NOT met")
        lines.append(
            f"{row['stage']:<10} {row['base_records']:>6,} -> {row['records']:<6,} "
            f"{row['base_seconds']:>7.2f} -> {row['seconds']:<7.2f} {peaks:>17} {row['ratio']:>11.2f} "
            f"{target or '':>7} {verdict}"
        )
    return "\n".join(lines)


def _run_size_in_child(args: argparse.Namespace, source: Path, records: int, first: bool) -> dict[str, Any]:
    """Run `coguide bench` for one size in a fresh process, so that its memory is its own; return its JSON."""
    package_dir = str(Path(__file__).resolve().parent.parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (package_dir, os.environ.get("PYTHONPATH")))),
    }
    with tempfile.TemporaryDirectory(prefix="coguide-bench-size-") as tmp:
        out = Path(tmp) / "result.json"
        argv = ["--project", str(source), "bench", "--records", str(records), "--json", str(out)]
        argv += ["--seed", str(args.seed), "--incremental" if args.incremental else "--no-incremental"]
        if getattr(args, "workers", None):
            argv += ["--workers", str(args.workers)]
        if not args.engine_build:
            argv.append("--no-engine")
        for engine in args.engines or ():
            argv += ["--engine", engine]
        # The citation benchmarks do not depend on N: the first size runs them.
        argv.append("--citations" if first and args.citations else "--no-citations")
        if first and args.bibtex_plugin:
            argv.append("--bibtex-plugin")
        if getattr(args, "serve", False):
            argv.append("--serve")
        if args.keep:
            argv += ["--keep", str(Path(args.keep).resolve() / f"records-{records}")]
        code = "import sys; from coguide.cli import main; sys.exit(main(sys.argv[1:]))"
        # Its progress goes to stderr as it runs; its table is printed with the others at the end.
        done = subprocess.run(
            [sys.executable, "-c", code, *argv], env=env, stdout=subprocess.DEVNULL, check=False
        )
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError(f"the benchmark of {records:,} records failed (exit status {done.returncode})")
        return json.loads(out.read_text(encoding="utf-8"))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table and write the JSON."""
    source = Path(getattr(args, "project", ".")).resolve()
    if not (source / "mkdocs.yml").is_file() or not (source / "datapackage" / "datapackage.json").is_file():
        raise SystemExit(
            f"coguide bench: {source} has no mkdocs.yml or datapackage/datapackage.json; "
            "run it from the project folder or pass --project DIR"
        )

    sizes = list(dict.fromkeys(args.records or [1000]))
    if min(sizes) < 10:
        raise SystemExit(
            "coguide bench: --records must be at least 10, so that every kind of record gets its share"
        )
    if args.bibtex_plugin and not args.citations:
        raise SystemExit(
            "coguide bench: --bibtex-plugin compares with the citation benchmark; drop --no-citations"
        )
    if args.bibtex_plugin and not bibtex_plugin_installed():
        raise SystemExit(
            f"coguide bench: --bibtex-plugin needs the {BIBTEX_PLUGIN[0]} plugin; install it with "
            "`.venv/bin/pip install -e '.[bench]'`"
        )

    def progress(line: str) -> None:
        print(f"coguide bench: {line}", file=sys.stderr, flush=True)

    from coguide.engines.base import DEFAULT_ENGINE, ENGINES

    chosen = args.engines or [DEFAULT_ENGINE]
    engines = tuple(ENGINES) if "all" in chosen else tuple(dict.fromkeys(chosen))
    if not args.engine_build:
        engines = ()

    def measure(workdir: Path) -> dict[str, Any]:
        result = run_benchmark(
            sizes[0],
            source=source,
            workdir=workdir,
            engines=engines,
            incremental=args.incremental,
            citations=(1000, 1000, 20) if args.citations else None,
            bibtex_plugin=args.bibtex_plugin,
            seed=args.seed,
            progress=progress,
            workers=getattr(args, "workers", None),
        )
        if getattr(args, "serve", False):
            progress("timing edits under coguide serve")
            result["serve"] = measure_serve(workdir, engine=engines[0] if engines else None)
        return result

    if args.keep:
        keep = Path(args.keep).resolve()
        if keep.exists() and any(keep.iterdir()):
            raise SystemExit(f"coguide bench: {keep} is not empty; name a new folder for --keep")
    try:
        if len(sizes) > 1:
            results = [_run_size_in_child(args, source, n, i == 0) for i, n in enumerate(sizes)]
            ratios = per_record_ratios(results)
            print("\n\n".join([*(format_report(r) for r in results), format_ratios(ratios)]))
            if args.json:
                combined = {"runs": results, "per_record": ratios}
                Path(args.json).write_text(json.dumps(combined, indent=2) + "\n", encoding="utf-8")
            return 0
        if args.keep:
            result = measure(Path(args.keep).resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="coguide-bench-") as tmp:
                result = measure(Path(tmp) / "project")
    except RuntimeError as exc:
        # A synthetic project that fails the check or the build is a bug in the generator or in this module.
        print(f"coguide bench: {exc}", file=sys.stderr)
        return 1
    print(format_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0
