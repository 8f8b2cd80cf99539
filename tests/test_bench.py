from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import pytest

from coguide.cite import Bibliography, find_citations
from coguide.cli import main
from coguide.engines.base import DEFAULT_ENGINE
from coguide.source.frontmatter import POST_KEYS
from coguide.source.load import split_front_matter
from coguide.source.validate import check_project
from coguide.tools.bench import (
    RECORD_FOLDERS,
    STAGES,
    Shape,
    bibtex_plugin_installed,
    citation_workload,
    format_ratios,
    measure_bibtex_plugin,
    measure_citations,
    per_record_ratios,
    write_synthetic_project,
)
from conftest import missing_tool

ROOT = Path(__file__).resolve().parent.parent


def rows(project: Path, name: str) -> list[dict[str, str]]:
    with (project / "datapackage" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_synthetic_project_passes_the_check_with_the_requested_counts(tmp_path):
    project = tmp_path / "bench"
    shape = write_synthetic_project(project, 40, source=ROOT)

    assert [p.format() for p in check_project(project) if p.severity == "error"] == []
    assert (shape.terms, shape.concepts, shape.cases, shape.arguments) == (4, 12, 12, 12)
    assert shape.terms + shape.concepts + shape.cases + shape.arguments == 40
    for name in ("terms", "concepts", "cases", "arguments", "questions"):
        assert len(rows(project, name)) == getattr(shape, name), name
    links = sum(
        len(rows(project, name))
        for name in (
            "term_concepts",
            "case_concepts",
            "case_terms",
            "argument_concepts",
            "argument_terms",
            "concept_related",
        )
    )
    assert links == 3 * (shape.terms + shape.cases + shape.arguments) + shape.concepts
    assert all(row["locator"] or row["key"] for row in rows(project, "citations"))
    bib, problems = Bibliography.parse(
        (project / "datapackage" / "references.bib").read_text(encoding="utf-8")
    )
    assert (len(bib), problems) == (shape.references, [])
    essays = sorted((project / "docs" / "blog" / "posts").glob("*.md"))
    assert len(essays) == shape.essays == 1
    front, body, _line = split_front_matter(essays[0].read_text(encoding="utf-8"))
    assert front is not None and all(f"{key.name}:" in front for key in POST_KEYS if key.required)
    assert sum(len(c.items) for c in find_citations(body)) >= 20


def test_long_text_fields_are_several_paragraphs_of_realistic_length(tmp_path):
    project = tmp_path / "bench"
    write_synthetic_project(project, 40, source=ROOT)
    bodies = [row["body"] for row in rows(project, "concepts")]
    assert all(100 <= len(body.split()) <= 500 for body in bodies)
    assert all(body.count("\n\n") >= 1 for body in bodies)
    assert any("[@" in body for body in bodies)


def test_the_same_seed_gives_the_same_project(tmp_path):
    a = write_synthetic_project(tmp_path / "a", 30, source=ROOT, seed=3)
    b = write_synthetic_project(tmp_path / "b", 30, source=ROOT, seed=3)
    assert a == b
    for name in ("terms.csv", "references.bib"):
        assert (tmp_path / "a" / "datapackage" / name).read_bytes() == (
            tmp_path / "b" / "datapackage" / name
        ).read_bytes()


def test_bench_reports_every_stage_with_plausible_numbers(tmp_path, capsys, monkeypatch):
    out = tmp_path / "bench.json"
    # Everything the bench and its MkDocs process make in the system's temporary folder, they delete.
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    assert (
        main(
            [
                "--project",
                str(ROOT),
                "bench",
                "--records",
                "40",
                "--json",
                str(out),
                "--keep",
                str(tmp_path / "kept"),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text(encoding="utf-8"))

    stages = {s["stage"]: s for s in result["stages"]}
    assert list(stages) == [*STAGES, DEFAULT_ENGINE]
    for stage in stages.values():
        # Every stage does real work on 40 records: it takes some time, but not minutes, in a process of
        # some megabytes; the rate is the records over that time.
        assert 0 < stage["seconds"] < 300, stage
        assert stage["records_per_second"] == pytest.approx(result["records"] / stage["seconds"], rel=0.01), (
            stage
        )
        assert 10 < stage["peak_rss_mib"] < 4096, stage
    assert (
        stages[DEFAULT_ENGINE]["detail"]["html_pages"]
        > result["shape"]["terms"] + result["shape"]["concepts"]
    )
    assert result["shape"] == asdict(Shape.for_records(40))
    # The engine's own steps: each took time, the parts fit in their whole, and the record pages' folders
    # are among those whose Markdown was timed.
    steps = stages[DEFAULT_ENGINE]["detail"]["steps"]
    seconds = steps["seconds"]
    assert all(value > 0 for value in seconds.values()), seconds
    assert seconds["read"] + seconds["markdown"] < seconds["populate"]
    assert seconds["search"] < seconds["build_pages"]
    assert seconds["populate"] + seconds["build_pages"] < stages[DEFAULT_ENGINE]["seconds"]
    assert set(RECORD_FOLDERS) <= set(steps["markdown_by_folder"])
    assert sum(steps["markdown_by_folder"].values()) == pytest.approx(seconds["markdown"], rel=1e-6)
    citations = result["citations"]
    assert citations["entries"] == 1000
    assert citations["parse_seconds"] > 0 and citations["render_seconds"] > 0
    assert citations["seconds"] == pytest.approx(
        citations["parse_seconds"] + citations["render_seconds"], abs=0.002
    )
    incremental = result["incremental"]
    assert incremental["unchanged_written"] == 0
    assert incremental["only_affected"], incremental
    assert incremental["record"] + ".md" in incremental["written"]
    assert (tmp_path / "kept" / "datapackage" / "terms.csv").is_file()
    kept = tmp_path / "kept" / "generated"
    records = [
        p
        for d in ("terms", "concepts", "cases")
        for p in (kept / d).glob("*.md")
        if p.name not in ("index.md", "compare.md")
    ]
    shape = result["shape"]
    assert (
        result["record_pages"]["pages"] == len(records) == shape["terms"] + shape["concepts"] + shape["cases"]
    )
    average = sum(p.stat().st_size for p in records) / len(records) / 1024
    assert result["record_pages"]["average_kib"] == pytest.approx(average, abs=0.01)
    table = capsys.readouterr().out
    for stage in [
        *STAGES,
        DEFAULT_ENGINE,
        f"{DEFAULT_ENGINE}'s own steps: reading pages",
        "citations:",
        "edit one record",
        "record pages (labels",
    ]:
        assert stage in table
    assert list(system_tmp.iterdir()) == []


def test_too_few_records_is_refused_with_the_fix():
    with pytest.raises(SystemExit, match="--records must be at least 10"):
        main(["--project", str(ROOT), "bench", "--records", "5"])


def test_the_bibtex_plugin_comparison_builds_the_same_pages_with_and_without_it(tmp_path):
    if not bibtex_plugin_installed():
        missing_tool("the mkdocs-bibtex plugin is not installed: .venv/bin/pip install -e '.[bench]'")
    work = citation_workload(20, 5, 4, seed=3)
    assert len(work.pages) == 5 and len(work.keys) == 20
    # The plugin's pybtex style knows classic BibTeX types only; ours formats the same entries.
    assert "@report{" not in work.bib_text and "@online{" not in work.bib_text
    assert "@techreport{" in work.bib_text and "@misc{" in work.bib_text
    assert all(text.count("[") >= work.per_page for text in work.pages)
    ours = measure_citations(work)
    assert (ours["entries"], ours["pages"], ours["citations_per_page"]) == (20, 5, 4)
    assert ours["distinct_keys_cited"] > 0

    assert ours["cpu_seconds"] > 0
    result = measure_bibtex_plugin(work, tmp_path / "plugin", ours)

    without, with_ = result["without_plugin"], result["with_plugin"]
    # The same pages (index, five pages and MkDocs's 404 page) either way; only the plugin's build has
    # citations turned into footnotes.
    assert with_["html_pages"] == without["html_pages"] == 7
    assert without["footnote_refs"] == 0 and with_["footnote_refs"] > 0
    assert result["plugin"].startswith("mkdocs-bibtex ")
    assert result["plugin_adds_seconds"] == pytest.approx(with_["seconds"] - without["seconds"], abs=0.002)
    if result["plugin_adds_seconds"] > 0:
        assert result["ratio"] == pytest.approx(ours["seconds"] / result["plugin_adds_seconds"], rel=0.01)
    assert with_["cpu_seconds"] > 0 and without["cpu_seconds"] > 0
    assert result["plugin_adds_cpu_seconds"] == pytest.approx(
        with_["cpu_seconds"] - without["cpu_seconds"], abs=0.002
    )
    assert result["target_ratio"] == pytest.approx(1 / 50)


def test_per_record_ratios_compare_each_stage_with_the_smallest_run():
    def run(records, seconds):
        stages = [
            {"stage": name, "seconds": value, "peak_rss_mib": 100.0 * records / 1000}
            for name, value in seconds.items()
        ]
        return {"records": records, "stages": stages, "ours_seconds": sum(seconds.values())}

    rows = per_record_ratios(
        [run(4000, {"load": 4.0, "render": 48.0}), run(1000, {"load": 1.0, "render": 10.0})]
    )
    by_stage = {row["stage"]: row for row in rows}
    assert by_stage["load"]["ratio"] == 1.0 and by_stage["render"]["ratio"] == 1.2
    assert by_stage["ours"]["ratio"] == pytest.approx(52 / 4 / 11, abs=0.001)
    assert {row["target"] for row in rows} == {1.15}
    assert by_stage["render"]["peak_rss_mib"] == 400.0
    table = format_ratios(rows)
    assert "render" in table and "NOT met" in table and "1.20" in table
