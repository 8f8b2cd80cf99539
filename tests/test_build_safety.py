"""Build outputs and the build process: refused output folders, the lock, the swap, clean-up and permissions."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from coguide import outputs
from coguide.cli import main
from coguide.outputs import MARKER, MARKER_TEXT, OutputError, build_lock, check_output_dir
from coguide.pages.render import Page, write_pages

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def digest(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Return every file (and symlink) under `root` with a hash of its content, leaving out top-level `skip`."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] in skip:
            continue
        if path.is_symlink():
            found[rel.as_posix()] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


#: What a build may add to a project: its outputs, its lock and scratch folders.
OUTPUTS = ("site", "generated", ".coguide-build.lock")


def sources(root: Path) -> dict[str, str]:
    return digest(root, skip=OUTPUTS)


def old_site(site: Path) -> dict[str, str]:
    """Make a previous build's site in `site` (marked, as a build leaves it) and return its digest."""
    (site / "terms").mkdir(parents=True)
    (site / "index.html").write_text("<p>the previous site</p>")
    (site / "terms" / "index.html").write_text("<p>labels</p>")
    (site / MARKER).write_text(MARKER_TEXT)
    return digest(site)


def build(root: Path, capsys, *args: str) -> tuple[int, str]:
    """Run ``coguide build`` in-process from the project folder; return the exit status and stderr."""
    cwd = Path.cwd()
    os.chdir(root)
    try:
        status = main(["--project", str(root), "build", *args])
    finally:
        os.chdir(cwd)
    return status, capsys.readouterr().err


def cli(root: Path, *args: str, **kwargs) -> subprocess.Popen[str]:
    """Start ``coguide build`` in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS)}
    return subprocess.Popen(
        [sys.executable, "-m", "coguide.cli", "--project", str(root), "build", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def scratch_folders(parent: Path, name: str = "site") -> list[Path]:
    return sorted(parent.glob(f".{name}.build-*"))


# --- Output folders that are refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_dir", "expected"),
    [
        ("docs", "is docs/, which holds the project's sources"),
        ("datapackage", "is datapackage/, which holds the project's sources"),
        ("scripts", "is scripts/, which holds the project's sources"),
        ("docs/blog", "lies inside docs/, which holds the project's sources"),
        ("datapackage/site", "lies inside datapackage/, which holds the project's sources"),
        (".", "is the project folder itself"),
        ("..", "contains the project"),
        ("../..", "contains the project"),
        ("generated", "is generated/"),
        ("generated/site", "lies inside generated/"),
    ],
)
def test_a_site_folder_in_or_around_the_sources_is_refused(project, capsys, site_dir, expected):
    root = project(full=True)
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("def test(): pass\n")
    before = sources(root)
    status, err = build(root, capsys, "--site-dir", site_dir)
    assert status == 2
    assert err.startswith("coguide: the site folder ")
    assert expected in err
    assert "choose another folder with --site-dir" in err
    assert "Traceback" not in err
    assert sources(root) == before
    assert not (root / "generated").exists()
    assert scratch_folders(root) == [] and scratch_folders(root.parent) == []


def test_a_site_folder_holding_tests_or_git_is_refused(project, capsys):
    root = project(full=True)
    for folder in ("tests", ".git", ".github"):
        (root / folder).mkdir(exist_ok=True)
        (root / folder / "kept").write_text("kept\n")
        status, err = build(root, capsys, "--site-dir", folder)
        assert status == 2, folder
        assert f"is {folder}/, which holds the project's sources" in err
        assert (root / folder / "kept").read_text() == "kept\n"


def test_any_folder_git_tracks_files_in_is_refused(project, capsys):
    root = project(full=True)
    (root / "notes").mkdir()
    (root / "notes" / "plan.md").write_text("a tracked note\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "notes/plan.md"], cwd=root, check=True)
    for site_dir in ("notes", "notes/site"):
        status, err = build(root, capsys, "--site-dir", site_dir)
        assert status == 2, site_dir
        assert "notes/, which holds the project's sources or tools" in err
    assert (root / "notes" / "plan.md").read_text() == "a tracked note\n"


def test_a_parent_of_the_project_is_refused(project, capsys, tmp_path):
    root = project(full=True)
    status, err = build(root, capsys, "--site-dir", str(tmp_path))
    assert status == 2
    assert f"contains the project ({root})" in err


def test_a_symlinked_site_folder_is_refused_and_its_target_kept(project, capsys, tmp_path):
    root = project(full=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("not the site\n")
    for target in (root / "docs", elsewhere):
        before = sources(root)
        (root / "site").unlink(missing_ok=True)
        (root / "site").symlink_to(target, target_is_directory=True)
        status, err = build(root, capsys)
        assert status == 2
        assert f"coguide: the site folder site is a symlink (to {target})" in err
        assert "remove the link (rm site)" in err
        assert sources(root) == before
    assert (elsewhere / "precious.txt").read_text() == "not the site\n"


def test_a_site_folder_under_a_symlink_inside_the_project_is_refused(project, capsys, tmp_path):
    root = project(full=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "out").symlink_to(outside, target_is_directory=True)
    status, err = build(root, capsys, "--site-dir", "out/site")
    assert status == 2
    assert "lies under out, a symlink inside the project" in err
    assert list(outside.iterdir()) == []


def test_a_file_as_site_folder_is_refused(project, capsys):
    root = project(full=True)
    (root / "site").write_text("a file, not a folder\n")
    status, err = build(root, capsys)
    assert status == 2
    assert "coguide: the site folder site is a file, not a folder" in err
    assert (root / "site").read_text() == "a file, not a folder\n"


def test_a_folder_no_build_made_is_not_replaced(project, capsys, tmp_path):
    root = project(full=True)
    mine = tmp_path / "my-files"
    mine.mkdir()
    (mine / "thesis.tex").write_text("three years of work\n")
    status, err = build(root, capsys, "--site-dir", str(mine))
    assert status == 2
    assert f"has no {MARKER} file" in err
    assert f"delete it (rm -r {mine}) and build again" in err
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]


def test_site_dir_in_mkdocs_yml_is_checked_too(project, capsys):
    root = project(full=True)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("site_dir: site\n", "site_dir: docs\n"))
    before = sources(root)
    status, err = build(root, capsys)
    assert status == 2
    assert "the site folder docs is docs/" in err
    assert "choose another folder with site_dir in mkdocs.yml or --site-dir" in err
    assert sources(root) == before


@pytest.mark.parametrize("site_dir", ["docs", "datapackage/out", ".", "generated"])
def test_check_reports_a_site_dir_in_mkdocs_yml_that_a_build_would_refuse(project, capsys, site_dir):
    root = project(full=True)
    config = root / "mkdocs.yml"
    text = config.read_text()
    line = text[: text.index("site_dir: site\n")].count("\n") + 1
    config.write_text(text.replace("site_dir: site\n", f"site_dir: {site_dir}\n"))
    assert main(["--project", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert f"mkdocs.yml:{line}: [unsafe-output] the site folder " in out
    assert ": set site_dir in mkdocs.yml to a folder of its own" in out


def test_check_reports_a_committed_generated_symlink_or_file(project, capsys):
    root = project()
    (root / "generated").symlink_to("datapackage", target_is_directory=True)
    assert main(["--project", str(root), "check", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "::error file=generated,title=Output folder that would destroy files::[unsafe-output] "
    )
    assert "the generated-pages folder generated is a symlink (to datapackage)" in out
    (root / "generated").unlink()
    (root / "generated").write_text("a file\n")
    assert main(["--project", str(root), "check"]) == 1
    assert (
        "generated: [unsafe-output] the generated-pages folder generated is a file" in capsys.readouterr().out
    )


def test_check_passes_a_safe_project_whatever_is_in_its_site_folder(project, capsys):
    root = project(full=True)
    (root / "site").mkdir()
    (root / "site" / "notes.txt").write_text("built on another day, by hand\n")
    assert main(["--project", str(root), "check"]) == 0
    assert "unsafe-output" not in capsys.readouterr().out


def test_a_symlinked_generated_folder_is_refused_and_its_target_kept(project, capsys, tmp_path):
    root = project(full=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.md").write_text("not a generated page\n")
    for target in (root / "datapackage", outside):
        (root / "generated").unlink(missing_ok=True)
        (root / "generated").symlink_to(target, target_is_directory=True)
        before = sources(root)
        status, err = build(root, capsys)
        assert status == 2
        assert f"the generated-pages folder generated is a symlink (to {target})" in err
        assert sources(root) == before
        assert not (root / "site").exists()
    assert [p.name for p in outside.iterdir()] == ["keep.md"]


def test_a_generated_folder_no_build_made_is_not_emptied(project, capsys):
    root = project(full=True)
    (root / "generated").mkdir()
    (root / "generated" / "notes.md").write_text("mine\n")
    status, err = build(root, capsys)
    assert status == 2
    assert "the generated-pages folder generated already holds files that no coguide build made" in err
    assert (root / "generated" / "notes.md").read_text() == "mine\n"


def test_the_generated_pages_writer_deletes_only_what_it_wrote(tmp_path):
    out = tmp_path / "generated"
    assert write_pages(
        [
            Page(src_uri="terms/a.md", content="a", source="test"),
            Page(src_uri="terms/b.md", content="b", source="test"),
        ],
        out,
    ) == [
        "terms/a.md",
        "terms/b.md",
    ]
    (out / "terms" / "stray.md").write_text("put here by hand\n")
    assert write_pages([Page(src_uri="terms/a.md", content="a", source="test")], out) == []
    assert not (out / "terms" / "b.md").exists()
    assert (out / "terms" / "stray.md").read_text() == "put here by hand\n"
    assert (out / MARKER).read_text() == MARKER_TEXT + "terms/a.md\n"


@pytest.mark.parametrize("uri", ["../escape.md", "terms/../../escape.md", "/abs.md", "terms\\..\\x.md"])
def test_the_generated_pages_writer_refuses_paths_that_leave_its_folder(tmp_path, uri):
    with pytest.raises(OutputError, match="would be written outside"):
        write_pages([Page(src_uri=uri, content="x", source="test")], tmp_path / "generated")
    assert not (tmp_path / "escape.md").exists() and not Path("/abs.md").exists()


def test_the_generated_pages_writer_never_writes_or_deletes_through_a_symlink(tmp_path):
    out = tmp_path / "generated"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.md").write_text("not generated\n")
    write_pages([Page(src_uri="terms/a.md", content="a", source="test")], out)
    (out / "data").symlink_to(elsewhere, target_is_directory=True)
    # A marker that lists files behind the link, or outside the folder, deletes none of them.
    (out / MARKER).write_text(MARKER_TEXT + "data/b.md\n../elsewhere/b.md\n..\n")
    write_pages([Page(src_uri="terms/a.md", content="a", source="test")], out)
    assert (elsewhere / "b.md").read_text() == "not generated\n"
    for uri in ("data/c.md", "data/sub/c.md"):
        with pytest.raises(OutputError, match=r"leads out of .* \(a symlink\)"):
            write_pages([Page(src_uri=uri, content="c", source="test")], out)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["b.md"]


def test_a_stray_file_in_generated_is_refused_not_published_nor_deleted(project, capsys):
    root = project(full=True)
    assert build(root, capsys)[0] == 0
    before = (root / "site" / "index.html").read_bytes()
    (root / "generated" / "terms" / "planted.md").write_text("# Planted\n")
    assert main(["--project", str(root), "build"]) == 1
    assert "generated/terms/planted.md: [unsafe-output]" in capsys.readouterr().out
    assert (root / "generated" / "terms" / "planted.md").is_file()
    assert not (root / "site" / "terms" / "planted").exists()
    assert (root / "site" / "index.html").read_bytes() == before


def test_a_link_to_a_folder_planted_in_generated_is_refused_and_not_followed(project, capsys, tmp_path):
    root = project(full=True)
    assert build(root, capsys)[0] == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Not the guide's\n")
    (root / "generated" / "planted").symlink_to(outside, target_is_directory=True)
    assert main(["--project", str(root), "build"]) == 1
    out = capsys.readouterr().out
    assert "generated/planted: [unsafe-output]" in out
    assert "secret.md" not in out  # reported as the link it is, never followed
    assert (outside / "secret.md").read_text() == "# Not the guide's\n"
    assert not (root / "site" / "planted").exists()


def test_a_site_built_before_markers_existed_is_replaced(project, capsys):
    root = project(full=True)
    site = root / "site"
    (site / "search").mkdir(parents=True)
    for name in outputs.LEGACY_SIGNATURES["site"]:
        (site / name).write_text("old")
    assert check_output_dir(root, site, kind="site", fix="x") == site
    assert build(root, capsys)[0] == 0
    assert (site / MARKER).read_text() == MARKER_TEXT
    assert "the previous site" not in (site / "index.html").read_text()


# --- The build process ---------------------------------------------------------------------------------------------


def test_the_site_gets_normal_permissions_whatever_the_umask(project, capsys):
    root = project(full=True)
    previous = os.umask(0o077)
    try:
        assert build(root, capsys)[0] == 0
    finally:
        os.umask(previous)
    site = root / "site"
    modes = {oct(p.stat().st_mode & 0o777) for p in [site, *site.rglob("*")] if p.is_dir()}
    assert modes == {"0o755"}
    modes = {oct(p.stat().st_mode & 0o777) for p in site.rglob("*") if p.is_file()}
    assert modes == {"0o644"}


def test_a_build_leaves_nothing_in_the_system_temp_folder(project, capsys, tmp_path, monkeypatch):
    root = project(full=True)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    assert build(root, capsys)[0] == 0
    assert list(system_tmp.iterdir()) == []
    assert tempfile.tempdir == str(system_tmp)
    assert scratch_folders(root) == []
    # The blog's category pages were built, so the plugin's temporary folder was used.
    assert (root / "site" / "blog" / "category").is_dir()


def test_stale_scratch_folders_are_removed_and_others_kept(project, capsys):
    root = project(full=True)
    killed = root / ".site.build-killed1"
    (killed / "site" / "terms").mkdir(parents=True)
    (killed / "site" / "terms" / "index.html").write_text("half a build")
    (killed / MARKER).write_text(MARKER_TEXT)
    empty = root / ".site.build-empty22"
    empty.mkdir()
    foreign = root / ".site.build-notours"
    foreign.mkdir()
    (foreign / "file.txt").write_text("someone else's\n")
    status, err = build(root, capsys)
    assert status == 0, err
    assert not killed.exists() and not empty.exists()
    assert (foreign / "file.txt").read_text() == "someone else's\n"
    assert scratch_folders(root) == [foreign]


def test_a_site_taken_away_by_a_killed_swap_is_put_back(project, capsys):
    root = project("self-link", full=True)
    scratch = root / ".site.build-swap123"
    previous = scratch / "previous"
    before = old_site(previous)
    (scratch / MARKER).write_text(MARKER_TEXT)
    status, err = build(root, capsys)
    assert status == 1  # the sources have an error; the site is put back all the same
    assert "restored" in err and "stopped while swapping it" in err
    assert digest(root / "site") == before
    assert scratch_folders(root) == []


def test_the_two_rename_swap_works_where_exchange_is_missing(project, capsys, monkeypatch):
    root = project(full=True)
    old_site(root / "site")
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    assert build(root, capsys)[0] == 0
    assert "the previous site" not in (root / "site" / "index.html").read_text()
    assert scratch_folders(root) == []


def test_a_failed_second_rename_puts_the_old_site_back(project, capsys, monkeypatch):
    root = project(full=True)
    before = old_site(root / "site")
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src).name == "site" and Path(src).parent.name.startswith(".site.build-"):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_rename(src, dst)

    monkeypatch.setattr(outputs.os, "rename", rename)
    status, err = build(root, capsys)
    assert status == 2
    assert "could not put the new site in place of" in err and "is unchanged" in err
    assert digest(root / "site") == before
    assert scratch_folders(root) == []


def test_a_read_only_site_gives_a_clear_error_and_stays_as_it_was(project, capsys, monkeypatch):
    root = project(full=True)
    before = old_site(root / "site")

    def refuse(a, b):
        raise PermissionError(13, "Permission denied", str(b))

    monkeypatch.setattr(outputs, "_exchange", refuse)
    status, err = build(root, capsys)
    assert status == 2
    assert err.splitlines()[-1].startswith("coguide: could not put the new site in place of")
    assert "(Permission denied)" in err and "chmod -R u+w" in err
    assert "Traceback" not in err
    assert digest(root / "site") == before


def test_a_read_only_site_is_refused_before_anything_is_built(project, capsys, monkeypatch):
    root = project(full=True)
    before = old_site(root / "site")
    real_access = os.access
    monkeypatch.setattr(
        outputs.os, "access", lambda path, mode: Path(path) != root / "site" and real_access(path, mode)
    )
    status, err = build(root, capsys)
    assert status == 2
    assert f"coguide: the site folder {root / 'site'} is read-only, so the build could not replace it" in err
    assert f"chmod -R u+w {root / 'site'}" in err
    assert digest(root / "site") == before
    assert not (root / "generated").exists()
    assert scratch_folders(root) == []


def test_an_unwritable_site_parent_gives_a_clear_error(project, capsys, monkeypatch):
    root = project(full=True)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", refuse)
    status, err = build(root, capsys)
    assert status == 2
    assert f"coguide: cannot write next to the site folder, in {root} (Permission denied)" in err


def test_two_concurrent_builds_take_turns(project):
    root = project(full=True)
    first = cli(root)
    deadline = time.monotonic() + 60
    while not (root / ".coguide-build.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = cli(root)
    results = [p.communicate(timeout=600) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    assert "another build of this project is running" in results[1][1]
    assert (root / "site" / "terms" / "client" / "index.html").is_file()
    assert scratch_folders(root) == []


def test_a_build_waits_for_the_lock_and_then_gives_up_clearly(project):
    root = project()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from coguide.outputs import build_lock\n"
            "with build_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)",
            str(root),
        ],
        env={**os.environ, "PYTHONPATH": str(SCRIPTS)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(
                OutputError, match=rf"process {holder.pid}\) still holds .coguide-build.lock after 1s"
            ),
            build_lock(root, wait=1),
        ):
            pass
    finally:
        holder.kill()
        holder.communicate()
    with build_lock(root, wait=1):  # released when its holder is killed
        assert (root / ".coguide-build.lock").read_text() == f"{os.getpid()}\n"


def _wait_for(predicate, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_a_build_killed_midway_leaves_the_site_whole_and_the_next_build_cleans_up(project, capsys):
    root = project(full=True)
    before = old_site(root / "site")
    process = cli(root)
    # Kill it while MkDocs is writing pages into the scratch folder.
    _wait_for(lambda: any((s / "site" / "terms").is_dir() for s in scratch_folders(root)))
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert digest(root / "site") == before
    assert len(scratch_folders(root)) == 1
    status, err = build(root, capsys)
    assert status == 0, err
    assert scratch_folders(root) == []
    assert (root / "site" / "terms" / "client" / "index.html").is_file()


# A build killed in the middle of the swap: RENAME_EXCHANGE is one step; the fallback's two renames are not.
KILL_IN_SWAP = """
import os, signal, sys
from coguide import outputs
from coguide.cli import main
real_exchange, real_rename = outputs._exchange, os.rename
def exchange(a, b):
    assert real_exchange(a, b)
    os.kill(os.getpid(), signal.SIGKILL)
def rename(src, dst):
    real_rename(src, dst)
    if os.path.basename(dst) == "previous":
        os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[2] == "exchange":
    outputs._exchange = exchange
else:
    outputs._exchange = lambda a, b: False
    outputs.os.rename = rename
main(["--project", sys.argv[1], "build"])
"""


@pytest.mark.parametrize("how", ["exchange", "two-renames"])
def test_a_build_killed_during_the_swap_is_recovered(project, capsys, how):
    root = project(full=True)
    before = old_site(root / "site")
    run = subprocess.run(
        [sys.executable, "-c", KILL_IN_SWAP, str(root), how],
        env={**os.environ, "PYTHONPATH": str(SCRIPTS)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    (scratch,) = scratch_folders(root)
    if how == "exchange":
        # The new site is whole and in place; the old one waits in the scratch folder to be deleted.
        assert (root / "site" / "terms" / "client" / "index.html").is_file()
        assert digest(scratch / "site") == before
    else:
        # Between the two renames there is no site/: the old one is in the scratch folder, whole.
        assert not (root / "site").exists()
        assert digest(scratch / "previous") == before
    status, err = build(root, capsys)
    assert status == 0, err
    assert ("restored" in err) == (how == "two-renames")
    assert scratch_folders(root) == []
    assert (root / "site" / "terms" / "client" / "index.html").is_file()
