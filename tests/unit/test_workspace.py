"""The workspace assembles the index: --offline reaches it, and its warnings reach the user."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness._cli import build_parser
from harness.index.cache import CachedIndex
from harness.index.interface import IndexUnreachableError
from harness.sources import PackageSources
from harness.workspace import Workspace, package_index
from tests.unit.test_index import OLD, ScriptedIndex

URL = "https://index.example/simple/"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("HARNESS_HOME", raising=False)
    return Workspace(tmp_path)


def fill_cache(workspace: Workspace, *, age_seconds: float) -> ScriptedIndex:
    inner = ScriptedIndex(URL)
    inner.listings["demo"] = OLD
    CachedIndex(inner, workspace.home / "index", clock=lambda: time.time() - age_seconds).releases("demo")
    return inner


def test_offline_index_answers_from_the_cache_and_says_how_old_it_is(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_cache(workspace, age_seconds=7200)
    index = package_index(workspace, PackageSources(index_url=URL), offline=True)
    assert index.releases("demo") == OLD
    assert capsys.readouterr().err == (
        f"harness: warning: offline: using the listing of demo from {URL} cached 2 h ago\n"
    )
    with pytest.raises(IndexUnreachableError, match="offline mode"):
        index.releases("other")


def test_without_offline_a_fresh_listing_is_used_silently(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_cache(workspace, age_seconds=0)
    assert package_index(workspace, PackageSources(index_url=URL)).releases("demo") == OLD
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["repro", "sweep", "bisect", "culprit", "gate"])
def test_every_probing_command_takes_offline(command: str) -> None:
    extra = {
        "repro": [],
        "sweep": ["c"],
        "bisect": ["c", "pkg"],
        "culprit": ["c", "--good-env", "a", "--bad-env", "b"],
        "gate": ["--candidate", "pkg==1"],
    }[command]
    assert build_parser().parse_args([command, *extra, "--offline"]).offline is True
    assert build_parser().parse_args([command, *extra]).offline is False
