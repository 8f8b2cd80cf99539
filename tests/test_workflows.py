"""GitHub workflows, issue forms and pre-commit hooks are valid, checked offline with vendored schemas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
TEMPLATES = GITHUB / "ISSUE_TEMPLATE"
FORMS = sorted(p for p in TEMPLATES.glob("*.yml") if p.name != "config.yml")


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_expected_files_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "deploy.yml"}
    assert {p.name for p in FORMS} == {"suggest-record.yml", "report-error.yml", "bug.yml"}
    assert (TEMPLATES / "config.yml").is_file()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path):
    result = check_jsonschema("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_issue_form_matches_the_github_schema(path):
    result = check_jsonschema("vendor.github-issue-forms", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_issue_chooser_config_matches_the_github_schema():
    result = check_jsonschema("vendor.github-issue-config", TEMPLATES / "config.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_form(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: Broken\ndescription: no body\nbody: []\n")
    assert check_jsonschema("vendor.github-issue-forms", broken).returncode != 0


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_issue_form_field_ids_are_unique(path):
    ids = [item["id"] for item in yaml.safe_load(path.read_text())["body"] if "id" in item]
    assert len(ids) == len(set(ids))


def test_pre_commit_runs_the_check_and_ruff_from_the_project_venv():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert all(repo["repo"] == "local" for repo in config["repos"])
    assert hooks["coguide-check"]["entry"] == ".venv/bin/coguide check"
    assert hooks["coguide-check"]["pass_filenames"] is False
    assert {"coguide-check", "ruff"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "system"
        program = hook["entry"].split()[0]
        assert program.startswith(".venv/bin/"), program
        # The tests run from the same virtual environment the hooks use.
        assert (Path(sys.executable).parent / Path(program).name).is_file(), program


def test_ci_runs_the_tests_as_ci_run_does_on_debian_with_ci_set():
    job = yaml.safe_load((GITHUB / "workflows" / "ci.yml").read_text())["jobs"]["test"]
    assert job["container"].startswith("debian:")
    assert job["env"]["CI"] == "true"
    runs = [step.get("run", "") for step in job["steps"]]
    assert "bash .ci/run" in runs
    # The tests run only through .ci/run, which installs the browser and Lighthouse first.
    assert not any("make test" in run or "pytest" in run for run in runs)


def test_ci_run_installs_every_tool_and_sets_ci():
    script = (ROOT / ".ci" / "run").read_text()
    for package in ("chromium", "chromium-driver", "nodejs npm", "python3-venv", "git", "make"):
        assert f"missing+=({package})" in script, package
    assert 'export CI="${CI:-true}"' in script
    assert script.rstrip().endswith("make test")


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", "fail"), ("1", "fail"), ("", "skip"), ("false", "skip")]
)
def test_a_missing_tool_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    from conftest import missing_tool

    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="Chromium is not installed"):
        missing_tool("Chromium is not installed")


def test_browser_tests_skip_only_through_missing_tool():
    source = (ROOT / "tests" / "test_browser.py").read_text()
    assert "pytest.skip(" not in source and "importorskip" not in source
    assert source.count("missing_tool(") >= 3
