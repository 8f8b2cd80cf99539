from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest
from rich.console import Console

from coguide.cli import StageLines, main, make_parser
from coguide.engines.mkdocs_hooks import Progress
from coguide.outputs import MARKER, MARKER_TEXT
from test_validate import DEFECTS

# Every defect fixture: the check fails on it, and so does the build, leaving the old site as it was.
DEFECTS_FOR_BUILD = sorted(DEFECTS)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def old_site(root: Path) -> Path:
    site = root / "site"
    (site / "terms" / "client").mkdir(parents=True)
    (site / "index.html").write_text("<p>the previous site</p>")
    (site / "terms" / "client" / "index.html").write_text("<p>client</p>")
    (site / MARKER).write_text(MARKER_TEXT)
    return site


def test_check_exit_codes(project, capsys):
    assert main(["--project", str(project()), "check"]) == 0
    assert main(["--project", str(project("self-link")), "check"]) == 1
    out = capsys.readouterr().out
    assert "datapackage/concept_related.csv:3: [self-link]" in out


def test_check_github_format(project, capsys):
    assert main(["--project", str(project("dangling-foreign-key")), "check", "--format", "github"]) == 1
    assert capsys.readouterr().out.startswith("::error file=datapackage/term_concepts.csv,line=2,")


@pytest.mark.parametrize("defect", DEFECTS_FOR_BUILD)
def test_failed_check_leaves_previous_site_untouched(project, defect, capsys):
    root = project(defect, full=True)
    site = old_site(root)
    before = tree_digest(site)
    assert main(["--project", str(root), "check"]) == 1
    path, line, code = DEFECTS[defect]
    where = f"{path}:{line}: [{code}]" if line else f"{path}: [{code}]"
    assert where in capsys.readouterr().out
    assert main(["--project", str(root), "build"]) == 1
    assert tree_digest(site) == before
    assert not (root / "generated").exists()
    assert "site was not built" in capsys.readouterr().err


def test_failed_mkdocs_build_leaves_previous_site_untouched(project):
    root = project(full=True)
    (root / "docs" / "about.md").write_text("# About\n\nA [broken link](no-such-page.md).\n")
    site = old_site(root)
    before = tree_digest(site)
    assert main(["--project", str(root), "build"]) == 1
    assert tree_digest(site) == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".site")] == []


def test_every_command_is_in_the_readme():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    commands = make_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"`coguide {name}" in readme, f"coguide {name} is not documented in README.md"


def test_stage_lines_are_plain_when_standard_error_is_not_a_terminal(capsys):
    # Under pytest standard error is captured, not a terminal: the lines CI logs and scripts read.
    lines = StageLines(verbose=True)
    assert not lines.live
    lines.running("generating the docs tree")
    lines.stage("render", 1.5)
    lines.stop()
    assert capsys.readouterr().err == "coguide: render     1.50s\n"
    StageLines(verbose=False).stage("render", 1.5)
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("alone")
def test_stage_lines_are_drawn_with_rich_in_a_terminal(capsys):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="standard", width=80)
    lines = StageLines(verbose=True, console=console)
    assert lines.live
    lines.running("generating the docs tree")
    # Nothing draws it in a thread of its own: the generator may fork its helpers meanwhile.
    assert threading.active_count() == 1
    lines.stage("load", 0.25)
    lines.stop()
    drawn = out.getvalue()
    assert "\x1b[" in drawn  # styled
    assert "load" in drawn and "0.25s" in drawn
    assert "generating the docs tree" in drawn  # the spinner
    assert capsys.readouterr().err == ""  # nothing went to the real standard error


def test_engine_page_counter_is_silent_outside_a_terminal(capsys):
    progress = Progress()
    assert not progress.enabled
    progress.start(20)
    for _ in range(25):
        progress.step()
    progress.finish()
    assert (progress.done, progress.total) == (25, 25)
    assert capsys.readouterr().err == ""
