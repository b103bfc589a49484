"""Fault injection, offline, with the fake packages: every fault is one clear line or a correct record (issue #13).

One test per item of the issue (items 1 and 4 live in test_races.py and test_signals.py): an index that goes
down and comes back; corrupt and hostile record files; the gate's own inputs; package names that are paths;
hostile messages through every output; the small ones (nan, duplicate ids, an empty matrix).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from junitparser import JUnitXml

from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

MATRIX = '[packages.fakepkg]\nversions = ["1.3"]\n[packages.fakedep]\nversions = ["2.0"]\n'
# Characters a terminal obeys or the eye misreads, and what a lone surrogate looks like once decoded.
RAW = ("\x1b", "\x00", "\u202e", "\udcff")
HOSTILE_MESSAGE = (
    r"hostile \x1b[2J\x1b]0;pwned\x07 @octocat </details><script>alert(1)</script> \u202eevil \x00nul \udcff end"
)
HOSTILE_CASE = """
id = "hostile"
title = "evil \\u001b[2J # <b>title</b> @octocat \\u202e"
packages = ["fakepkg"]
timeout = 30

[signature]
exception = "builtins.ValueError"
message_contains = ["hostile"]

[recorded_environment]
fakepkg = "1.3"
fakedep = "2.0"
"""
HOSTILE_REPLAY = f"""
import fakepkg


def replay() -> None:
    raise ValueError("{HOSTILE_MESSAGE}")
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProject]:
    fake = make_project(tmp_path_factory.mktemp("faults"))
    hostile = fake.root / "cases" / "hostile"
    hostile.mkdir()
    (hostile / "case.toml").write_text(HOSTILE_CASE, encoding="utf-8")
    (hostile / "replay.py").write_text(HOSTILE_REPLAY, encoding="utf-8")
    fake.write_versions(MATRIX)
    yield fake


def error_lines(result_stderr: str) -> list[str]:
    return [line for line in result_stderr.splitlines() if line.startswith("harness: error:")]


def records_of(project: FakeProject, case_id: str) -> dict[str, str]:
    folder = project.root / "reports" / "records" / case_id
    return {path.name: json.loads(path.read_text())["outcome"] for path in sorted(folder.glob("*.json"))}


# --- item 2: verdicts against accidents ---------------------------------------------------------------------------


def test_an_index_that_goes_down_is_an_accident_retried_when_it_comes_back(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.write_versions(MATRIX)
    index, away = tmp_path / "simple", tmp_path / "simple-away"
    index.rename(away)
    junit = tmp_path / "junit.xml"
    down = project.harness("gate", "--candidate", "fakepkg==1.3", "--junit", str(junit))
    assert down.returncode == 3, down.output  # undecided, not a verdict
    assert list(records_of(project, "fake_case").values()) == ["UNAVAILABLE"]
    assert "error" in junit.read_text()
    away.rename(index)
    # No --fresh: the accident is not reused as an answer; the verdict replaces it and is reused from then on.
    again = project.harness("repro", "--no-report")
    assert again.returncode == 0, again.output
    assert "1 probes (0 from stored records)" in again.stdout
    assert list(records_of(project, "fake_case").values()) == ["PASSED"]
    assert project.harness("gate", "--candidate", "fakepkg==1.3").returncode == 0
    assert "1 probes (1 from stored records)" in project.harness("repro", "--no-report").stdout


# --- item 3: one validating record codec --------------------------------------------------------------------------


def test_corrupt_record_files_are_named_once_and_never_stop_a_report(project: FakeProject) -> None:
    folder = project.root / "reports" / "records" / "fake_case"
    folder.mkdir(parents=True, exist_ok=True)
    good = {
        "schema": 1,
        "case_id": "fake_case",
        "case_hash": "h",
        "parameters": {"n": 3},
        "requested": {"fakepkg": "1.3"},
        "python": "3.11",
        "outcome": "PASSED",
        "detail": "ran",
    }
    files = {
        "null.json": "null",
        "list.json": "[]",
        "types.json": json.dumps({**good, "parameters": []}),
        "version.json": json.dumps({**good, "requested": {"fakepkg": "not.a.version"}}),
        "truncated.json": json.dumps(good)[:-20],
        "deep.json": "[" * 50_000 + "]" * 50_000,
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    os.mkfifo(folder / "fifo.json")
    try:
        result = project.harness("report", timeout=120)
    finally:
        for name in [*files, "fifo.json"]:
            (folder / name).unlink()
    assert result.returncode == 0, result.output
    skipped = [line for line in result.stderr.splitlines() if line.startswith("harness: skipped ")]
    assert sorted(line.split("/")[-1].split(":")[0] for line in skipped) == sorted([*files, "fifo.json"])
    assert all(": not a probe record (" in line for line in skipped)
    assert "field 'requested.fakepkg': 'not.a.version' is not a valid version" in result.stderr
    assert "not a regular file" in result.stderr
    assert "Traceback" not in result.output
    assert (project.root / "reports" / "index.html").is_file()


# --- items 3 and 7: hostile text through every output -------------------------------------------------------------


def assert_inert(text: str, where: str, *, markup: bool = True, markdown: bool = False) -> None:
    """No raw control or invisible character; in markup no live tag either; in Markdown no mention."""
    for raw in RAW:
        assert raw not in text, f"{where} keeps {raw!r}"
    if markup:
        assert "<script>alert" not in text, f"{where} keeps the script tag"
    if markdown:
        assert "@octocat" not in text, f"{where} keeps a mention"


def test_hostile_messages_are_inert_in_every_output(project: FakeProject, tmp_path: Path) -> None:
    junit, summary = tmp_path / "junit.xml", tmp_path / "gate.md"
    gate = project.harness(
        "gate",
        *("--case", "hostile", "--candidate", "fakepkg==1.3", "--github"),
        *("--junit", str(junit), "--markdown", str(summary)),
    )
    assert gate.returncode == 1, gate.output  # REPRODUCED
    assert "hostile" in gate.stdout
    assert_inert(gate.stdout, "the gate's terminal output and annotations", markup=False)
    assert not any(line.startswith(("::", "@")) and "hostile" in line[:12] for line in gate.stdout.splitlines())
    JUnitXml.fromfile(str(junit))  # still well-formed XML
    assert_inert(junit.read_text(encoding="utf-8"), "JUnit")
    assert_inert(summary.read_text(encoding="utf-8"), "the gate's Markdown", markdown=True)

    exported = project.harness("export", "hostile")
    assert exported.returncode == 0, exported.output
    # The replay's own source and the traceback are shown in fences, where Markdown is inert: only what lies
    # outside them must be escaped, but nothing anywhere may keep a raw control character.
    assert_inert(exported.stdout, "export's terminal output", markup=False)
    assert_inert(outside_fences(exported.stdout), "export's Markdown", markdown=True)
    heading = exported.stdout.splitlines()[0]
    # Rendered, it reads "# evil \x1b[2J # <b>title</b> @octocat \u202e": literal text, no mention, no tag.
    assert heading == r"# evil \\x1b\[2J \# &lt;b>title&lt;/b> &#64;octocat \\u202e", heading
    bug_report = (project.root / "reports" / "hostile" / "bug-report.md").read_text(encoding="utf-8")
    assert bug_report.strip() == exported.stdout.strip()

    # A 20 MB message in a record (as an older harness wrote them) must not make a page of the same size.
    (record_file,) = (project.root / "reports" / "records" / "hostile").glob("*.json")
    data = json.loads(record_file.read_text())
    data["error"]["message"] = "hostile " + "y" * 20_000_000
    data["detail"] = "hostile " + "z" * 20_000_000
    record_file.write_text(json.dumps(data))
    report = project.harness("report", timeout=120)
    assert report.returncode == 0, report.output
    page = (project.root / "reports" / "index.html").read_text(encoding="utf-8")
    assert len(page) < 1_000_000
    assert "characters cut" in page
    assert_inert(page, "index.html")
    assert_inert((project.root / "reports" / "hostile" / "summary.md").read_text(), "summary.md", markdown=True)


def outside_fences(markdown: str) -> str:
    kept, fence = [], ""
    for line in markdown.splitlines():
        opening = re.match(r"^(`{3,})", line)
        if fence and line.strip().startswith(fence) and set(line.strip()) == {"`"}:
            fence = ""
        elif not fence and opening:
            fence = opening.group(1)
        elif not fence:
            kept.append(line)
    return "\n".join(kept)


# --- item 5: the gate trusts its inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["[]", "null", '"ranges"', "[" * 100_000 + "]" * 100_000, '{"schema": 1, "ranges": null, "x": ['],
)
def test_a_malformed_known_bad_file_is_one_line_with_the_junit_written(
    project: FakeProject, tmp_path: Path, content: str
) -> None:
    known_bad, junit = tmp_path / "known-bad.json", tmp_path / "junit.xml"
    known_bad.write_text(content)
    result = project.harness(
        "gate", "--static-only", "--known-bad", str(known_bad), "--candidate", "fakepkg==1.3", "--junit", str(junit)
    )
    assert result.returncode == 2, result.output
    assert len(error_lines(result.stderr)) == 1 and "known-bad.json" in result.stderr
    assert "Traceback" not in result.output
    assert junit.is_file()


def test_the_gate_refuses_what_it_cannot_trust(project: FakeProject, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    gate = ("gate", "--candidate", "fakepkg==1.3", "--junit", str(junit))

    typo = project.harness(*gate, "--static-only", "--known-bad", "/typo.json")
    assert typo.returncode == 2 and "/typo.json: file not found" in typo.stderr

    accepted = tmp_path / "gate.toml"
    accepted.write_text('[[accept]]\ncase = "no_such_case"\nuntil = 2999-01-01\nreason = "typo"\n')
    unknown = project.harness(*gate, "--static-only", "--accept", str(accepted))
    assert unknown.returncode == 2 and "'no_such_case', which is not a case" in unknown.stderr

    versions = project.root / "versions.toml"
    versions.write_text("python = [\n")
    junit.unlink()
    try:
        broken = project.harness(*gate)
    finally:
        project.write_versions(MATRIX)
    assert broken.returncode == 2 and len(error_lines(broken.stderr)) == 1 and "versions.toml" in broken.stderr
    assert junit.is_file(), "the JUnit file is written even when versions.toml is broken"

    unwritable = project.harness("gate", "--candidate", "fakepkg==1.3", "--junit", str(versions / "junit.xml"))
    assert unwritable.returncode == 2, unwritable.output
    assert error_lines(unwritable.stderr) == [f"harness: error: cannot write {versions / 'junit.xml'}: File exists"]

    for result in (typo, unknown, broken, unwritable):
        assert "Traceback" not in result.output


def test_an_unwritable_reports_folder_is_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.write_versions(MATRIX)
    # Root ignores permissions, so a file where the folder should be stands for a read-only reports/.
    (project.root / "reports").write_text("not a folder")
    result = project.harness("gate", "--candidate", "fakepkg==1.3")
    assert result.returncode == 2, result.output
    (line,) = error_lines(result.stderr)
    assert line.startswith("harness: error: cannot write ") and "reports" in line
    assert "Traceback" not in result.output


def test_a_live_layer_that_cannot_serve_is_undecided_with_outputs(project: FakeProject, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    versions = project.root / "versions.toml"
    project.write_versions(MATRIX)
    versions.write_text(versions.read_text().replace('python = "3.11"', 'python = "2.1"'))
    try:
        result = project.harness("gate", "--case", "fake_case", "--candidate", "fakepkg==1.3", "--junit", str(junit))
    finally:
        project.write_versions(MATRIX)
    assert result.returncode == 3, result.output
    assert "no Python interpreter matches '2.1'" in result.stdout
    assert "no Python interpreter" in junit.read_text()


# --- item 6: names are checked before any path is built -----------------------------------------------------------


def test_a_package_named_like_a_path_is_refused_before_any_file_is_written(
    project: FakeProject, tmp_path: Path
) -> None:
    target = tmp_path / "some" / "dir" / "pwned"
    project.write_versions(f'[packages."{target}"]\nrange = ">=1"\n')
    try:
        result = project.harness("list")
    finally:
        project.write_versions(MATRIX)
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        f"harness: error: {project.root / 'versions.toml'}: [packages.NAME] {str(target)!r} is not a valid package "
        "name (letters, digits, '.', '_' and '-')"
    ]
    assert not (tmp_path / "some").exists()


# --- item 8: the small ones ---------------------------------------------------------------------------------------


def bare_project(project: FakeProject, root: Path, cases: dict[str, str], versions: str) -> FakeProject:
    """A project with these case folders (name -> case.toml) on the fake index of ``project``; nothing is built."""
    for folder, case_toml in cases.items():
        (root / "cases" / folder).mkdir(parents=True)
        (root / "cases" / folder / "case.toml").write_text(case_toml)
        (root / "cases" / folder / "replay.py").write_text("def replay() -> None:\n    pass\n")
    bare = FakeProject(root, project.index_url, project.package, project.environ)
    bare.write_versions(versions)
    return bare


CASE = 'id = "{id}"\npackages = ["fakepkg"]\n{extra}\n[signature]\nexception = "E"\n'


@pytest.mark.parametrize(
    ("cases", "versions", "message"),
    [
        ({"a": CASE.format(id="a", extra="timeout = nan")}, MATRIX, "field 'timeout': expected a positive number"),
        ({"a": CASE.format(id="a", extra="timeout = inf")}, MATRIX, "field 'timeout': expected a positive number"),
        (
            {"a": CASE.format(id="a", extra="") + '[recorded_environment]\nfakepkg = "1.x"\n'},
            MATRIX,
            "cases/a/case.toml: field 'recorded_environment.fakepkg': expected a version (PEP 440)",
        ),
        (
            {"a": CASE.format(id="same", extra=""), "b": CASE.format(id="same", extra="")},
            MATRIX,
            "case id 'same' is declared by two folders, ",
        ),
        (
            {"a": CASE.format(id="a", extra="")},
            '[packages.fakepkg]\nrange = ">=9"\n',
            "versions.toml: the ranges and excludes leave no combination;",
        ),
        (
            {"a": CASE.format(id="a", extra="")},
            '[packages.fakepkg]\nversions = ["1.3"]\n[[exclude]]\nfakepkg = "1.3"\n',
            "versions.toml: the ranges and excludes leave no combination (1 excluded by [[exclude]])",
        ),
    ],
)
def test_small_mistakes_are_one_clear_line(
    project: FakeProject, tmp_path: Path, cases: dict[str, str], versions: str, message: str
) -> None:
    result = bare_project(project, tmp_path / "bare", cases, versions).harness("repro")
    assert result.returncode == 2, result.output
    (line,) = error_lines(result.stderr)
    assert message in line
    assert "Traceback" not in result.output
    if "two folders" in message:
        assert str(tmp_path / "bare" / "cases" / "a") in line and str(tmp_path / "bare" / "cases" / "b") in line
