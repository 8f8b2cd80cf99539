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
    assert not any("make test" in run or "pytest" in run.replace("pytest-results.xml", "") for run in runs)


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


def workflow(name: str) -> dict:
    data = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def test_every_named_step_is_shown_in_the_developer_docs():
    docs = (ROOT / "docs" / "developers" / "index.md").read_text()
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job.get("steps", []):
                if "name" in step:
                    assert f"| {step['name']} |" in docs, (
                        f"{path.name}: step {step['name']!r} is not documented"
                    )


def test_pull_requests_are_checked_and_failures_annotated():
    ci = workflow("ci.yml")
    assert "pull_request" in ci["on"]
    steps = {s.get("name"): s for job in ci["jobs"].values() for s in job["steps"]}
    assert "--format github" in steps["coguide check (annotations on the pull request)"]["run"]
    assert "--output-format=github" in steps["Lint (annotations on the lines at fault)"]["run"]
    assert (
        "junit_family=xunit1"
        in steps["Install the tools and run every test (.ci/run)"]["env"]["PYTEST_ADDOPTS"]
    )
    annotate = steps["Annotate failing tests on the lines at fault"]
    assert annotate["if"] == "failure()"
    assert "coguide.tools.ci junit pytest-results.xml" in annotate["run"]


def test_each_pull_request_gets_a_preview_and_only_main_is_deployed():
    deploy = workflow("deploy.yml")
    assert {"push", "pull_request"} <= set(deploy["on"])
    assert deploy["permissions"] == {"contents": "read"}
    jobs = deploy["jobs"]
    assert jobs["build"]["if"] == jobs["deploy"]["if"] == "github.event_name != 'pull_request'"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    preview = jobs["preview"]
    assert preview["if"] == "github.event_name == 'pull_request'"
    assert "permissions" not in preview  # a pull request's own code runs here: read-only
    steps = preview["steps"]
    uploads = {s["with"]["name"]: s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")}
    assert uploads["site-preview"]["with"]["path"] == "preview/"
    assert uploads["pull-request"]["if"] == "always()"
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "coguide.tools.ci preview site preview" in runs and "coguide.tools.ci build site" in runs


def test_the_preview_comment_runs_with_write_access_but_no_pull_request_code():
    comment = workflow("preview-comment.yml")
    assert comment["on"] == {
        "workflow_run": {"workflows": [workflow("deploy.yml")["name"]], "types": ["completed"]}
    }
    assert comment["permissions"] == {"contents": "read"}
    (job,) = comment["jobs"].values()
    assert job["if"] == "github.event.workflow_run.event == 'pull_request'"
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any(s.get("uses", "").startswith("actions/checkout") for s in job["steps"])
    script = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/github-script"))["with"][
        "script"
    ]
    assert "/^[0-9]+$/.test(number)" in script and "startsWith(prefix)" in script


def test_line_endings_are_kept_stable_by_gitattributes():
    def attr(path: str, name: str) -> str:
        result = subprocess.run(
            ["git", "check-attr", name, "--", path], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return result.stdout.rsplit(": ", 1)[-1].strip()

    for path in ("datapackage/terms.csv", "datapackage/references.bib", "docs/blog/posts/an-essay.md"):
        assert attr(path, "eol") == "lf", path
    # The fixture that tests a BOM and CRLF keeps its bytes.
    assert attr("tests/fixtures/bom-and-crlf/datapackage/terms.csv", "text") == "unset"


def test_the_pull_request_template_asks_for_the_licence_and_the_code_of_conduct():
    template = (GITHUB / "pull_request_template.md").read_text()
    assert "CC BY 4.0" in template and "MIT" in template and "CODE_OF_CONDUCT.md" in template
    conduct = (ROOT / "CODE_OF_CONDUCT.md").read_text()
    assert "Contributor Covenant, version 2.1" in conduct
    assert "@" not in conduct  # reports go through the issue tracker or GitHub, not an address made up here
