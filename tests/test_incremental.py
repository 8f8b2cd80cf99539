"""Incremental generation: after each kind of edit, a kept Generator's docs tree equals a fresh full generation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from coguide.build import Generator, generate
from conftest import no_children


def tree(folder: Path) -> dict[str, bytes]:
    """Return every file under `folder` (the marker included) by its relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a file with `new`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path: Path, line: str) -> None:
    """Add one CSV row (or line) at the end of a file."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + line + "\n", encoding="utf-8")


@pytest.fixture
def kept(project, tmp_path):
    """Return (project, generator, check) where check() runs the generator and compares it with a fresh run."""
    root = project(full=True)
    generator = Generator(root)
    first = generator.run()
    assert first.ok and first.full, [p.format() for p in first.problems]
    total = len(first.files)
    fresh_dirs = iter(range(100))

    def check() -> list[str]:
        result = generator.run()
        assert result.ok, [p.format() for p in result.problems]
        fresh_dir = tmp_path / f"fresh{next(fresh_dirs)}"
        fresh = generate(root, fresh_dir)
        assert fresh.ok
        ours, theirs = tree(root / "generated"), tree(fresh_dir)
        assert sorted(ours) == sorted(theirs)
        different = [name for name in ours if ours[name] != theirs[name]]
        assert different == [], f"incremental output differs from a full generation in {different}"
        assert result.files == fresh.files
        return result.rendered

    return root, generator, check, total


def test_each_kind_of_edit_renders_few_pages_and_equals_a_full_generation(kept):
    root, _generator, check, total = kept
    data = root / "datapackage"

    # Nothing changed: nothing is rendered.
    assert check() == []

    # A record's text: its page, the pages that show it, the indexes and exports that list it.
    edit(
        data / "terms.csv",
        "holds the expertise [@mclaughlin2009]",
        "holds all the expertise [@mclaughlin2009]",
    )
    rendered = check()
    assert "terms/client.md" in rendered and "terms/service-user.md" not in rendered
    assert len(rendered) < total / 4, (len(rendered), total)

    # A title shown on other pages: the concept's name is on the label pages that link to it.
    edit(data / "concepts.csv", "\npower,power,", "\npower,social power,")
    rendered = check()
    assert {"concepts/power.md", "terms/client.md"} <= set(rendered)
    assert len(rendered) < total / 2, (len(rendered), total)

    # A row of a link table: both records' pages change.
    append(data / "case_terms.csv", "care-act-2014,client")
    rendered = check()
    assert {"terms/client.md", "cases/care-act-2014.md"} <= set(rendered)
    assert len(rendered) < total / 3, (len(rendered), total)

    # A reference in references.bib: the pages that cite it and the bibliography.
    edit(
        data / "references.bib",
        "Negotiating Improvements in Public Services",
        "Negotiating Improvements in Public Services Today",
    )
    rendered = check()
    assert "bibliography/index.md" in rendered and "data/references.ris" in rendered
    assert len(rendered) < total / 2, (len(rendered), total)

    # An essay.
    edit(
        root / "docs" / "blog" / "posts" / "a-fixture-essay.md",
        "changed its name for the people",
        "changed its names for the people",
    )
    rendered = check()
    assert "blog/posts/a-fixture-essay.md" in rendered
    assert "terms/client.md" not in rendered
    assert len(rendered) < total / 4, (len(rendered), total)

    # An added record, linked to an existing one.
    append(
        data / "concepts.csv",
        "voice,voice,,Users saying what they want [@needham2008].,Voice is one way to shape a service.,,,",
    )
    append(data / "term_concepts.csv", "client,voice")
    rendered = check()
    assert {"concepts/voice.md", "terms/client.md", "concepts/index.md"} <= set(rendered)
    assert (root / "generated" / "concepts" / "voice.md").is_file()

    # A deleted record: its page goes, and so do the links to it.
    edit(data / "term_concepts.csv", "client,voice\n", "")
    edit(
        data / "concepts.csv",
        "voice,voice,,Users saying what they want [@needham2008].,Voice is one way to shape a service.,,,\n",
        "",
    )
    rendered = check()
    assert "terms/client.md" in rendered
    assert not (root / "generated" / "concepts" / "voice.md").exists()


def test_the_indexes_and_the_glossary_follow_only_the_works_their_fields_cite(kept):
    root, _generator, check, _total = kept
    bib = root / "datapackage" / "references.bib"
    shown_elsewhere = {"glossary/index.md", "terms/index.md", "concepts/index.md", "cases/index.md"}

    # needham2008 is cited in a concept's body and a case's outcomes, which no index, the glossary or SKOS shows.
    edit(bib, "Negotiating Improvements in Public Services", "Negotiating Better Public Services")
    rendered = set(check())
    assert {"concepts/co-production.md", "cases/care-act-2014.md"} <= rendered
    assert not rendered & shown_elsewhere, rendered & shown_elsewhere
    assert "data/skos.ttl" not in rendered  # SKOS gives definitions and summaries only

    # mclaughlin2009 is cited in a label's definition (the glossary) and its relationship (the labels' matrix).
    edit(bib, "Service User'---What's Next?", "Service User'---What Next?")
    rendered = set(check())
    assert {"glossary/index.md", "terms/index.md", "terms/client.md"} <= rendered
    assert not rendered & {"concepts/index.md", "cases/index.md"}


def test_a_change_no_page_declares_renders_everything(kept):
    root, _generator, check, total = kept
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert len(check()) == total


def test_an_edit_with_errors_leaves_the_tree_and_the_next_run_catches_up(kept):
    root, generator, check, _total = kept
    terms = root / "datapackage" / "terms.csv"
    before = tree(root / "generated")
    edit(terms, "holds the expertise [@mclaughlin2009]", "holds the expertise [@nobody2001]")
    assert not generator.run().ok
    assert tree(root / "generated") == before
    edit(terms, "holds the expertise [@nobody2001]", "holds some expertise [@mclaughlin2009]")
    assert "terms/client.md" in check()


def test_kept_validation_reports_what_a_fresh_validation_does(project):
    from coguide.source.load import load_project
    from coguide.source.validate import ValidationCache, validate_project

    root = project("bad-enum-value")
    cache = ValidationCache()
    fresh = validate_project(load_project(root))
    assert any(p.code == "constraint-error" and p.path.endswith("arguments.csv") for p in fresh)
    assert validate_project(load_project(root), cache=cache) == fresh
    assert set(cache.tables) >= {"arguments", "terms"} and cache.bibliography is not None
    # Nothing changed: every table's Frictionless result and the bibliography are reused, and agree.
    assert validate_project(load_project(root), cache=cache) == fresh
    # One table gains a broken link and another a bad value: the kept results for the rest still agree.
    edit(root / "datapackage" / "case_terms.csv", "care-act-2014,service-user", "care-act-2014,no-such-label")
    edit(root / "datapackage" / "cases.csv", ",individual,", ",everyone,")
    fresh = validate_project(load_project(root))
    assert {p.code for p in fresh} >= {"constraint-error", "foreign-key"}
    assert validate_project(load_project(root), cache=cache) == fresh


def test_kept_markup_and_reference_checks_report_what_fresh_ones_do_and_parse_only_changed_texts(
    project, monkeypatch
):
    import coguide.source.validate as validate
    from coguide.source.load import load_project

    root = project()
    data = root / "datapackage"
    cache = validate.ValidationCache()
    parsed: list[str] = []
    real = validate.find_unsafe_markup
    monkeypatch.setattr(
        validate, "find_unsafe_markup", lambda text, **kw: parsed.append(text) or real(text, **kw)
    )
    assert validate.validate_project(load_project(root), cache=cache) == validate.validate_project(
        load_project(root)
    )
    assert parsed and cache.markup and cache.references is not None

    # A cell gains raw HTML and a work's author reads as a person though it is an organisation.
    edit(
        data / "terms.csv",
        "holds the expertise [@mclaughlin2009]",
        "holds the <b>expertise</b> [@mclaughlin2009]",
    )
    edit(data / "references.bib", "author = {Needham, Catherine}", "author = {NHS England}")
    parsed.clear()
    kept = validate.validate_project(load_project(root), cache=cache)
    changed = [text for text in parsed if "<b>expertise</b>" in text]
    assert changed and len(parsed) == len(changed)  # only the edited cell is parsed again (and fresh runs)
    parsed.clear()
    fresh = validate.validate_project(load_project(root))
    assert kept == fresh
    assert {p.code for p in kept} >= {"raw-html", "group-author"}

    # Both mended: the kept results drop the problems, as a fresh validation does.
    edit(
        data / "terms.csv",
        "holds the <b>expertise</b> [@mclaughlin2009]",
        "holds the expertise [@mclaughlin2009]",
    )
    edit(data / "references.bib", "author = {NHS England}", "author = {Needham, Catherine}")
    kept = validate.validate_project(load_project(root), cache=cache)
    assert kept == validate.validate_project(load_project(root))
    assert not {p.code for p in kept} & {"raw-html", "group-author"}


def test_the_model_is_built_with_the_collector_paused_and_it_is_back_on_after(project, monkeypatch):
    import gc

    import coguide.build as build

    seen: list[bool] = []
    real = build.build_model

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "build_model", spy)
    assert gc.isenabled()
    result = Generator(project()).run()
    assert result.ok
    assert seen == [False]
    assert gc.isenabled()


def test_the_zip_is_made_in_a_thread_beside_the_pages_and_written_in_its_turn(project, monkeypatch):
    import dataclasses
    import threading

    import coguide.build as build

    threads: dict[str, str] = {}
    real = build.site_jobs

    def spy(site, root, *more):
        def watched(job):
            def make():
                threads[job.key] = threading.current_thread().name
                return job.make()

            return dataclasses.replace(job, make=make)

        return [watched(job) for job in real(site, root, *more)]

    monkeypatch.setattr(build, "site_jobs", spy)
    root = project()
    result = Generator(root).run()
    assert result.ok
    beside = {key for key, name in threads.items() if name != threading.main_thread().name}
    assert beside == {"data/coproduction-guide-data.zip"}
    assert threads["data/coproduction-guide-data.zip"].startswith("coguide-beside")
    assert "data/coproduction-guide-data.zip" in result.rendered
    fresh = tree(root / "generated")
    assert fresh["data/coproduction-guide-data.zip"][:2] == b"PK"


def test_a_run_after_an_edit_loads_the_templates_the_first_run_compiled(kept, monkeypatch):
    import jinja2

    root, generator, _check, _total = kept
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    edit(
        root / "datapackage" / "terms.csv",
        "holds the expertise [@mclaughlin2009]",
        "holds all the expertise [@mclaughlin2009]",
    )
    result = generator.run()
    assert "terms/client.md" in result.rendered
    assert compiled == []
    # A fresh generator compiles them (so the count above could have caught a compilation).
    assert generate(root, root.parent / "fresh-again").ok
    assert "term.md.jinja" in compiled


#: Helpers are forked on Linux and the BSDs only (see `coguide.forked.can_fork`).
def forks(test):
    """Mark a test that needs helpers: skipped where none is forked; run with this process's only thread."""
    skip = pytest.mark.skipif(
        not hasattr(os, "fork") or sys.platform == "darwin",
        reason="helpers are forked only on Linux and the BSDs",
    )
    return skip(pytest.mark.usefixtures("alone")(test))


@forks
def test_a_full_run_with_a_helper_writes_what_a_run_alone_writes_and_edits_follow(project, tmp_path):

    root = project(full=True)
    alone = generate(root, tmp_path / "alone", workers=1)
    assert alone.ok and alone.helpers == 0
    generator = Generator(root, tmp_path / "helped", workers=2)
    helped = generator.run()
    assert helped.ok and helped.helpers == 1
    assert len(helped.helpers_private_mib) == 1
    assert tree(tmp_path / "helped") == tree(tmp_path / "alone")
    assert helped.files == alone.files
    assert sorted(helped.rendered) == sorted(alone.rendered)
    assert sorted(helped.written) == sorted(alone.written)
    assert no_children()
    # The jobs the helper rendered are known to the generator: an edit renders only what it touched.
    edit(
        root / "datapackage" / "terms.csv",
        "holds the expertise [@mclaughlin2009]",
        "holds all the expertise [@mclaughlin2009]",
    )
    after = generator.run()
    assert after.ok and not after.full and after.helpers == 0
    # (What else it renders depends on the real hand-written pages that name the label.)
    assert "terms/client.md" in after.written and len(after.rendered) < len(alone.rendered) // 2
    assert generate(root, tmp_path / "fresh", workers=1).ok
    assert tree(tmp_path / "helped") == tree(tmp_path / "fresh")


@forks
@pytest.mark.parametrize("how", ["raises", "killed"])
def test_a_helper_that_fails_leaves_its_share_to_the_run_which_ends_as_a_run_alone(
    project, tmp_path, monkeypatch, how
):
    import os
    import signal

    import coguide.build as build

    root = project(full=True)
    alone = generate(root, tmp_path / "alone", workers=1)
    real = build._render_share

    def failing(share, out_dir, note):
        real(share[: len(share) // 2], out_dir, note)  # some pages written, then the helper fails
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("a helper's bug")

    monkeypatch.setattr(build, "_render_share", failing)
    helped = generate(root, tmp_path / "helped", workers=2)
    assert helped.ok and helped.helpers == 1 and helped.helpers_private_mib == []
    assert tree(tmp_path / "helped") == tree(tmp_path / "alone")
    assert helped.files == alone.files
    # What the helper wrote before it failed counts as written, as in a run alone.
    assert sorted(helped.written) == sorted(alone.written)
    assert no_children()


@forks
def test_a_job_that_raises_in_a_helper_raises_and_every_file_written_is_in_the_marker(project, monkeypatch):

    import coguide.build as build
    from coguide.outputs import MARKER

    real = build.site_jobs
    broken_keys: list[str] = []

    def breaking(site, root, *more):
        jobs = real(site, root, *more)
        dealt = [job for job in jobs if not job.beside]
        # The last job of the helper's share (every second job is the helper's, dealt in turn).
        target = dealt[len(dealt) - 1 - (len(dealt) % 2 == 1)]
        broken_keys.append(target.key)

        def broken():
            raise ValueError("a template bug")

        return [dataclasses.replace(job, make=broken) if job is target else job for job in jobs]

    import dataclasses

    monkeypatch.setattr(build, "site_jobs", breaking)
    root = project(full=True)
    with pytest.raises(ValueError, match="a template bug"):
        build.generate(root, workers=2)
    assert no_children()
    # The helper failed, so its share was rendered here, where the same job raised the same error.
    out = root / "generated"
    listed = set((out / MARKER).read_text(encoding="utf-8").splitlines()[1:])
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {MARKER}
    assert on_disk and on_disk <= listed
    assert broken_keys and broken_keys[0].startswith(
        ("concepts/", "cases/", "terms/", "data/", "asset:", "written:")
    )


@forks
def test_a_run_cut_short_lists_in_the_marker_every_file_its_helpers_wrote(project, tmp_path, monkeypatch):
    import coguide.build as build
    from coguide.outputs import MARKER

    real = build.site_jobs

    def breaking(site, root, *more):
        jobs = real(site, root, *more)

        def broken():
            # Ctrl-C while this process renders its first job, once the helper has written some files.
            import time

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and sum(1 for p in out.rglob("*") if p.is_file()) < 20:
                time.sleep(0.01)
            raise KeyboardInterrupt

        own = next(job for job in jobs if not job.beside)
        return [dataclasses.replace(job, make=broken) if job is own else job for job in jobs]

    import dataclasses

    root = project(full=True)
    alone = generate(root, tmp_path / "alone", workers=1)
    monkeypatch.setattr(build, "site_jobs", breaking)
    out = tmp_path / "cut"
    real_share = build._render_share

    def slow_share(share, out_dir, note):
        import time

        result = real_share(share[:20], out_dir, note)  # some files written, then still at work when stopped
        time.sleep(30)
        return result

    monkeypatch.setattr(build, "_render_share", slow_share)
    with pytest.raises(KeyboardInterrupt):
        build.generate(root, out, workers=2)
    assert no_children()
    listed = set((out / MARKER).read_text(encoding="utf-8").splitlines()[1:])
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {MARKER}
    assert len(on_disk) >= 20 and on_disk <= listed
    # The next run (nothing broken) takes none of them for a stray.
    monkeypatch.undo()
    again = generate(root, out, workers=2)
    assert again.ok, [p.format() for p in again.problems]
    assert tree(out) == tree(tmp_path / "alone") and again.files == alone.files


def test_a_hand_written_page_where_the_data_makes_one_is_refused(project, monkeypatch):
    import coguide.source.validate as validate
    from coguide.source.validate import check_project

    root = project(full=True)
    # In a folder the generator alone makes: `coguide check` refuses it, before anything is made.
    (root / "docs" / "terms").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "terms" / "client.md").write_text("# Client\n\nA page of my own.\n", encoding="utf-8")
    found = [p for p in check_project(root) if p.path == "docs/terms/client.md"]
    assert [p.code for p in found] == ["unexpected-file"] and "made by the generator" in found[0].message
    (root / "docs" / "terms" / "client.md").unlink()
    # In a folder of hand-written pages, where the data makes one page too: `coguide check` refuses it as well.
    (root / "docs" / "developers" / "data-dictionary.md").write_text("# Mine\n\nA page.\n", encoding="utf-8")
    found = [p for p in check_project(root) if p.path == "docs/developers/data-dictionary.md"]
    assert [p.code for p in found] == ["unexpected-file"] and "made by the generator" in found[0].message
    # A generated page validation does not know of yet (the list left empty): the build still finds the clash.
    monkeypatch.setattr(validate, "GENERATED_AMONG_WRITTEN", frozenset())
    assert [p for p in check_project(root) if p.path.startswith("docs/developers/data-dictionary")] == []
    for workers in (1, 2):
        result = generate(root, workers=workers)
        clash = [p for p in result.problems if p.code == "unexpected-file" and "made twice" in p.message]
        assert [p.path for p in clash] == ["docs/developers/data-dictionary.md"], [
            p.format() for p in result.problems
        ]
        assert not result.ok


def test_what_only_the_generator_makes_is_declared_where_validation_reads_it(project):
    from coguide.outputs import GENERATED_AMONG_WRITTEN, GENERATED_ONLY

    root = project(full=True)
    generator = Generator(root)
    assert generator.run().ok
    made, written = set(), set()
    for key, job in generator._last.jobs.items():
        for name in job.files:
            (written if key.startswith(("written:", "asset:")) else made).add(name.split("/")[0])
    assert made - written == GENERATED_ONLY
    assert GENERATED_ONLY.isdisjoint(written)
    # Where a folder holds both, every page the generator makes there is declared too.
    among = {
        name
        for key, job in generator._last.jobs.items()
        if not key.startswith(("written:", "asset:"))
        for name in job.files
        if name.split("/")[0] in written
    }
    assert among == GENERATED_AMONG_WRITTEN


@forks
def test_validation_with_a_helper_reports_what_validation_alone_does(project, tmp_path, monkeypatch):
    import os

    import coguide.source.validate as validate
    from coguide.source.load import load_project
    from coguide.source.validate import ValidationCache, validate_sources

    pids = tmp_path / "pids"
    real = validate.validate_frictionless

    def spy(*args, **kwargs):
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(validate, "validate_frictionless", spy)
    root = project("bad-enum-value")
    edit(root / "datapackage" / "case_terms.csv", "care-act-2014,service-user", "care-act-2014,no-such-label")
    alone_cache, helped_cache = ValidationCache(), ValidationCache()
    alone = validate_sources(load_project(root), cache=alone_cache)
    helped = validate_sources(load_project(root), cache=helped_cache, helper=True)
    # Frictionless ran once here (alone), then once in a helper.
    here, there = pids.read_text().split()
    assert here == str(os.getpid()) and there != here
    assert {p.code for p in alone.problems} >= {"constraint-error", "foreign-key"}
    assert helped.problems == alone.problems
    assert helped_cache.tables == alone_cache.tables and helped_cache.tables
    assert no_children()


def test_glossary_mentions_are_kept_only_for_the_same_text_and_the_same_names():
    from coguide.build import Mentions

    mentions = Mentions()
    names = {"terms/client.md": ["client"], "terms/carer.md": ["carer", "caregiver"]}
    assert mentions.find(["A Client and a caregiver.", "Nobody."], names) == [
        ["terms/client.md", "terms/carer.md"],
        [],
    ]
    # Kept: a text seen in the last run is not searched again.
    seen: list[str] = []

    class Spy(str):
        def casefold(self) -> str:
            seen.append(str(self))
            return super().casefold()

    assert mentions.find([Spy("A Client and a caregiver."), Spy("A carer.")], names) == [
        ["terms/client.md", "terms/carer.md"],
        ["terms/carer.md"],
    ]
    assert seen == ["A carer."]
    # A name changed: every text is searched again.
    renamed = {**names, "terms/client.md": ["patient"]}
    assert mentions.find([Spy("A Client and a caregiver.")], renamed) == [["terms/carer.md"]]
    assert seen == ["A carer.", "A Client and a caregiver."]
