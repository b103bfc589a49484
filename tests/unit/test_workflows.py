"""The example GitHub Actions workflows: valid YAML, the expected jobs, and only nox sessions the noxfile defines."""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
NOXFILE = ROOT / "noxfile.py"
EXPECTED_JOBS = {
    "dependency-gate.yml": {"gate"},
    "repro-matrix.yml": {"shards", "repro", "report"},
}

# A @nox.session decorator (its arguments may span lines), any further decorators, then the function.
_SESSION = re.compile(
    r"^[ \t]*@nox\.session\b(?P<args>.*?)\n(?:[ \t]*@[^\n]*\n)*[ \t]*def[ \t]+(?P<function>\w+)[ \t]*\(",
    re.MULTILINE | re.DOTALL,
)
_NAME_ARGUMENT = re.compile(r"""\bname\s*=\s*(["'])(?P<name>[^"']+)\1""")
_SHELL_SEPARATORS = re.compile(r"\|\||&&|[|;\n]|\$\(|\)")


def noxfile_sessions(text: str) -> set[str]:
    """Names of the sessions a noxfile defines: ``name="..."`` if given, else the function name."""
    sessions = set()
    for match in _SESSION.finditer(text):
        named = _NAME_ARGUMENT.search(match.group("args"))
        sessions.add(named.group("name") if named else match.group("function"))
    return sessions


def nox_sessions_invoked(script: str) -> list[str]:
    """Every session name passed to ``nox -s``/``--session``/``--sessions`` in a shell script."""
    found: list[str] = []
    for segment in _SHELL_SEPARATORS.split(script.replace("\\\n", " ")):
        try:
            tokens = shlex.split(segment)
        except ValueError:
            tokens = segment.split()
        if not tokens or tokens[0] != "nox":
            continue
        collecting = False
        for token in tokens[1:]:
            if token == "--":
                break
            if token in ("-s", "--session", "--sessions", "-e"):
                collecting = True
            elif token.startswith("-"):
                collecting = False
            elif collecting:
                found.append(token)
    return found


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key "on" as the boolean true.
    value = workflow.get("on", workflow.get(True))
    assert isinstance(value, dict)
    return value


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(workflow["jobs"][job]["steps"])


def run_scripts(workflow: dict[str, Any]) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def uses(workflow: dict[str, Any], job: str, action: str) -> list[dict[str, Any]]:
    return [step for step in steps(workflow, job) if str(step.get("uses", "")).startswith(action + "@")]


# --- the helpers themselves ---------------------------------------------------------------------------------------

SAMPLE_NOXFILE = """
import nox

@nox.session(python=False)
@nox.parametrize("case", ["a", "b"])
def repro(session, case):
    pass

@nox.session(
    name="report",
    python=False,
    tags=("reports",),
)
def write_reports(session):
    pass

@nox.session
def lint(session):
    pass

def helper():
    pass
"""


def test_noxfile_sessions_parser() -> None:
    assert noxfile_sessions(SAMPLE_NOXFILE) == {"repro", "report", "lint"}


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("nox -s gate -- --requirements requirements.txt", ["gate"]),
        ('sessions="$(nox -l --json -s repro | jq -c .)"', ["repro"]),
        ("nox -s tests lint && nox --session report", ["tests", "lint", "report"]),
        ('nox -s "$SESSION"', ["$SESSION"]),
        ("python -m pip install nox uv", []),
        ("nox -l", []),
    ],
)
def test_nox_sessions_invoked(script: str, expected: list[str]) -> None:
    assert nox_sessions_invoked(script) == expected


# --- the workflows ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "jobs"), sorted(EXPECTED_JOBS.items()))
def test_workflow_is_valid_and_has_the_expected_jobs(name: str, jobs: set[str]) -> None:
    workflow = load(name)
    assert workflow["name"]
    assert triggers(workflow)
    assert set(workflow["jobs"]) == jobs
    for job_name, job in workflow["jobs"].items():
        assert job["runs-on"], job_name
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), (job_name, step)
        setup = uses(workflow, job_name, "actions/setup-python")
        assert [step["with"]["python-version"] for step in setup] == ["3.11"]


def test_dependency_gate_workflow() -> None:
    workflow = load("dependency-gate.yml")
    paths = triggers(workflow)["pull_request"]["paths"]
    for pattern in ("requirements*.txt", "pyproject.toml", "uv.lock", "pylock.toml"):
        assert pattern in paths
    scripts = run_scripts(workflow)
    assert any("pip install -e ." in script for script in scripts)
    (gate,) = [script for script in scripts if "nox -s gate" in script]
    arguments = shlex.split(gate)
    assert arguments[:4] == ["nox", "-s", "gate", "--"]
    for option, value in (
        ("--requirements", "requirements.txt"),
        ("--junit", "reports/gate/junit.xml"),
        ("--markdown", "reports/gate/summary.md"),
    ):
        assert arguments[arguments.index(option) + 1] == value
    assert any('>> "$GITHUB_STEP_SUMMARY"' in script and "reports/gate/summary.md" in script for script in scripts)
    (upload,) = uses(workflow, "gate", "actions/upload-artifact")
    assert upload["with"]["path"].rstrip("/") == "reports/gate"
    (publish,) = uses(workflow, "gate", "EnricoMi/publish-unit-test-result-action")
    assert publish["with"]["files"] == "reports/gate/junit.xml"
    # Reports must be written and kept even when the gate step fails the job.
    for step in (upload, publish):
        assert "!cancelled()" in step["if"] or "always()" in step["if"]


def harness_invocations(script: str) -> list[list[str]]:
    """The arguments of every ``python -m harness`` in a shell script, after ``harness``."""
    found = []
    for segment in _SHELL_SEPARATORS.split(script.replace("\\\n", " ")):
        try:
            tokens = shlex.split(segment.split(">", 1)[0])
        except ValueError:
            continue  # a piece of a jq program cut at a pipe; no harness call starts inside one
        if tokens[:3] == ["python", "-m", "harness"]:
            found.append(tokens[3:])
    return found


def option(arguments: list[str], name: str) -> str:
    return arguments[arguments.index(name) + 1]


def test_harness_invocations_parser() -> None:
    script = 'python -m harness list --json --shards "$SHARDS" > shards.json\njq . shards.json'
    assert harness_invocations(script) == [["list", "--json", "--shards", "$SHARDS"]]
    assert harness_invocations("nox -s report") == []


def test_repro_matrix_workflow() -> None:
    workflow = load("repro-matrix.yml")
    jobs = workflow["jobs"]
    shard_count = int(workflow["env"]["SHARDS"])
    assert shard_count >= 2
    costs = workflow["env"]["COSTS"]

    # The list job restores the previous run's records and lists the shards balanced by their timings.
    (restore,) = uses(workflow, "shards", "actions/cache/restore")
    assert restore["with"]["path"].rstrip("/") == costs
    (listing,) = [step for step in steps(workflow, "shards") if step.get("id") == "list"]
    (arguments,) = harness_invocations(listing["run"])
    assert arguments[0] == "list" and "--json" in arguments
    assert option(arguments, "--shards") == "$SHARDS"
    assert option(arguments, "--costs-from") == "$COSTS"
    assert "$GITHUB_OUTPUT" in listing["run"]
    assert jobs["shards"]["outputs"]["shards"] == "${{ steps.list.outputs.shards }}"

    # Each shard job computes its share from the same records, and runs it in one process.
    repro = jobs["repro"]
    assert repro["needs"] == "shards"
    assert repro["strategy"]["fail-fast"] is False
    assert repro["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.shards.outputs.shards) }}"
    (shard_restore,) = uses(workflow, "repro", "actions/cache/restore")
    assert shard_restore["with"] == restore["with"]
    (run,) = [step for step in steps(workflow, "repro") if harness_invocations(step.get("run", ""))]
    (arguments,) = harness_invocations(run["run"])
    assert arguments[0] == "repro" and "--no-report" in arguments
    assert option(arguments, "--shard") == "$SHARD"
    assert option(arguments, "--costs-from") == "$COSTS"
    assert run["env"]["SHARD"] == "${{ matrix.shard }}"
    (upload,) = uses(workflow, "repro", "actions/upload-artifact")
    assert upload["with"]["path"].rstrip("/") == "reports/records"

    # The merge job copies the records, runs one report, and keeps the records as the next run's costs.
    report = jobs["report"]
    assert report["needs"] == "repro"
    (download,) = uses(workflow, "report", "actions/download-artifact")
    assert download["with"]["path"].rstrip("/") == "reports/records"
    assert download["with"]["merge-multiple"] is True
    first_artifact = upload["with"]["name"].replace("${{ strategy.job-index }}", "0")
    assert fnmatch.fnmatchcase(first_artifact, download["with"]["pattern"])
    assert any(nox_sessions_invoked(script) == ["report"] for script in run_scripts(workflow))
    assert uses(workflow, "report", "actions/upload-artifact")
    (save,) = uses(workflow, "report", "actions/cache/save")
    assert save["with"]["path"] == restore["with"]["path"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert any('"$COSTS/"' in script and "reports/records" in script for script in run_scripts(workflow))


def test_untrusted_expressions_never_reach_a_script() -> None:
    # ${{ }} inside run: is pasted into the script before the shell sees it; values must go through env.
    for name in EXPECTED_JOBS:
        for script in run_scripts(load(name)):
            assert "${{" not in script, script


@pytest.mark.skipif(
    not NOXFILE.exists(), reason="noxfile.py is not in this checkout yet (it comes from another branch)"
)
@pytest.mark.parametrize("name", sorted(EXPECTED_JOBS))
def test_workflows_invoke_only_sessions_the_noxfile_defines(name: str) -> None:
    defined = noxfile_sessions(NOXFILE.read_text(encoding="utf-8"))
    invoked = [session for script in run_scripts(load(name)) for session in nox_sessions_invoked(script)]
    assert invoked
    # "$SESSION" is the matrix entry, which comes from "nox -l -s repro" and is checked through that call.
    assert {session for session in invoked if not session.startswith("$")} <= defined
