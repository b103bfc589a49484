"""Nox sessions: each repro session reuses the matrix expanded at import and queues the report session once."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import pytest

import harness.workspace
from harness import noxsupport
from harness.errors import ConfigError
from harness.model.matrix import Matrix, MatrixSpec, expand, parse_matrix
from harness.model.schema import SCHEMA_FILES, schema_text
from harness.noxsupport import NoxMatrix, repro_matrix, run_repro, write_schemas
from harness.sources import PackageSources
from harness.workspace import ExpandedMatrix, KeptProbers, Workspace

LABELS = ("fakepkg==1.3", "fakepkg==1.4")


class FakeSession:
    def __init__(self, *, dependencies: bool = True) -> None:
        self.dependencies = dependencies
        self.notified: list[tuple[str, list[str] | None]] = []
        self.errors: list[str] = []

    def notify(self, target: str, posargs: Sequence[str] | None = None) -> None:
        if not self.dependencies:
            raise ValueError("Cannot notify sessions under --no-dependencies")
        self.notified.append((target, None if posargs is None else list(posargs)))

    def error(self, *args: object) -> None:
        self.errors.append(" ".join(map(str, args)))


@pytest.fixture
def matrix(tmp_path: Path) -> NoxMatrix:
    spec = parse_matrix({"packages": {"fakepkg": {"versions": ["1.3", "1.4"]}}})
    expanded = ExpandedMatrix(Workspace(tmp_path), spec, PackageSources(), expand(spec, {}))
    return NoxMatrix(tuple(c.label for c in expanded.matrix.combinations), expanded=expanded)


kept_seen: list[KeptProbers | None] = []


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[argparse.Namespace, ExpandedMatrix]]:
    """Calls of the in-process repro; any further matrix expansion fails the test."""
    kept_seen.clear()
    seen: list[tuple[argparse.Namespace, ExpandedMatrix]] = []

    def run_expanded(
        args: argparse.Namespace,
        expanded: ExpandedMatrix,
        *,
        kept: KeptProbers | None = None,
        queued: Sequence[str] = (),
    ) -> int:
        seen.append((args, expanded))
        kept_seen.append(kept)
        return 0

    def no_expansion(spec: MatrixSpec, releases: object) -> Matrix:
        raise AssertionError("the matrix was expanded again")

    monkeypatch.setattr("harness.repro.command.run_expanded", run_expanded)
    monkeypatch.setattr(harness.workspace, "expand", no_expansion)
    return seen


def test_every_session_reuses_the_matrix_and_queues_one_report(
    matrix: NoxMatrix, runs: list[tuple[argparse.Namespace, ExpandedMatrix]]
) -> None:
    session = FakeSession()
    for label in LABELS:
        run_repro(session, matrix, label, ["--fresh"])
    assert [(args.only, args.report, args.fresh) for args, _ in runs] == [
        (["fakepkg==1.3"], False, True),
        (["fakepkg==1.4"], False, True),
    ]
    assert all(expanded is matrix.expanded for _, expanded in runs)
    # One set of probers for the whole Nox run: the fork workers outlive each session.
    assert kept_seen == [matrix.kept, matrix.kept] and kept_seen[0] is kept_seen[1]
    # Without posargs=[], nox would hand the repro sessions' own arguments (--fresh) to `harness report`.
    assert session.notified == [("report", []), ("report", [])]
    assert session.errors == []


def test_without_dependencies_each_session_writes_the_summaries_itself(
    matrix: NoxMatrix, runs: list[tuple[argparse.Namespace, ExpandedMatrix]]
) -> None:
    run_repro(FakeSession(dependencies=False), matrix, LABELS[0], [])
    ((args, _),) = runs
    assert args.report is True


def test_another_versions_file_is_expanded_by_the_command(
    matrix: NoxMatrix, runs: list[tuple[argparse.Namespace, ExpandedMatrix]], monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []
    monkeypatch.setattr(noxsupport, "run_harness", lambda session, argv: commands.append(list(argv)))
    run_repro(FakeSession(), matrix, LABELS[0], ["--versions", "other.toml"])
    assert commands == [["repro", "--no-report", "--only", LABELS[0], "--versions", "other.toml"]]
    assert runs == []


def test_a_harness_error_fails_the_session_with_one_line(
    matrix: NoxMatrix, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace, expanded: ExpandedMatrix, **_: object) -> int:
        raise ConfigError("cases/x/case.toml: field 'id': expected a string")

    monkeypatch.setattr("harness.repro.command.run_expanded", broken)
    session = FakeSession()
    run_repro(session, matrix, LABELS[0], [])
    assert capsys.readouterr().err == "harness: error: cases/x/case.toml: field 'id': expected a string\n"
    assert session.errors == ["harness repro exited with status 2"]


def test_a_broken_versions_toml_is_one_explaining_session(tmp_path: Path) -> None:
    (tmp_path / "versions.toml").write_text("python = 3\n", encoding="utf-8")
    listed = repro_matrix(tmp_path)
    assert listed.labels == ()
    assert listed.expanded is None
    assert listed.error is not None and "field 'python': expected a string" in listed.error


def test_write_schemas_writes_what_the_models_generate(tmp_path: Path) -> None:
    written = write_schemas(tmp_path / "schema")
    assert [p.name for p in written] == [f.name for f in SCHEMA_FILES]
    for path, schema_file in zip(written, SCHEMA_FILES, strict=True):
        assert path.read_text(encoding="utf-8") == schema_text(schema_file)


def test_kept_probers_are_one_per_settings_until_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = KeptProbers()
    spec = parse_matrix({"packages": {"fakepkg": {"versions": ["1.3"]}}})
    workspace = Workspace(tmp_path)
    first = kept.prober(workspace, spec, PackageSources(), fresh=True, mode="fork")
    assert kept.prober(workspace, spec, PackageSources(), fresh=True, mode="fork") is first
    other = kept.prober(workspace, spec, PackageSources(), fresh=False, mode="fork")
    assert other is not first
    closed: list[object] = []
    for prober in (first, other):
        monkeypatch.setattr(prober.runner, "close", lambda prober=prober: closed.append(prober))
    kept.close()
    assert closed == [first, other]
    kept.close()  # idempotent: nothing is closed twice
    assert closed == [first, other]
    assert kept.prober(workspace, spec, PackageSources(), fresh=True, mode="fork") is not first


@pytest.mark.parametrize(("shard", "message"), [("3/2", "K must be between 1 and N"), ("half", "expected K/N")])
def test_a_bad_shard_is_a_usage_error(shard: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from harness._cli import build_parser  # noqa: PLC0415

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["repro", "--shard", shard])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
