"""pip's configuration carried over to uv, end to end: no [sources] in versions.toml, only pip pointing at the index.

HOME and XDG_CONFIG_DIRS point at empty folders, so this machine's own pip configuration takes no part.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import process
from tests.integration.conftest import REPO, FakeProject, make_project

pytestmark = pytest.mark.integration

VERSIONS = 'python = "3.11"\n[packages.fakepkg]\nversions = ["1.3", "1.4"]\n[packages.fakedep]\nversions = ["2.0"]\n'
EXPECTED = {"1.3": "PASSED", "1.4": "REPRODUCED"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProject]:
    tmp = tmp_path_factory.mktemp("pip-config")
    project = make_project(tmp, hang=(), other_error=(), unresolvable=())
    for folder in ("home", "xdg"):
        (tmp / folder).mkdir()
    project.environ.update({"HOME": str(tmp / "home"), "XDG_CONFIG_DIRS": str(tmp / "xdg")})
    project.environ.pop("XDG_CONFIG_HOME", None)
    yield project


def repro(project: FakeProject, versions_toml: str, environ: dict[str, str], *args: str) -> list[dict[str, Any]]:
    (project.root / "versions.toml").write_text(versions_toml, encoding="utf-8")
    result = process.run(
        [sys.executable, "-m", "harness", "--root", project.root, "repro", "--fresh", *args],
        cwd=REPO,
        env=project.environ | environ,
        timeout=600,
    )
    assert result.returncode == 0, result.output
    folder = project.root / "reports" / "records" / "fake_case"
    found = [json.loads(path.read_text()) for path in folder.glob("*.json")]
    for path in folder.glob("*.json"):
        path.unlink()  # each scenario judges only its own records
    return found


def outcomes(records: list[dict[str, Any]]) -> dict[str, str]:
    return {record["requested"]["fakepkg"]: record["outcome"] for record in records}


def test_pip_index_url_is_where_repro_resolves(project: FakeProject) -> None:
    records = repro(project, VERSIONS, {"PIP_INDEX_URL": project.index_url})
    assert outcomes(records) == EXPECTED
    for record in records:
        assert record["sources"]["index_url"] == project.index_url
        assert record["resolved"]["fakedep"] == "2.0"


def test_pip_config_file_is_where_repro_resolves(project: FakeProject, tmp_path: Path) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {project.index_url}\n", encoding="utf-8")
    records = repro(project, VERSIONS, {"PIP_CONFIG_FILE": str(config)})
    assert outcomes(records) == EXPECTED
    assert {record["sources"]["index_url"] for record in records} == {project.index_url}


def test_carry_pip_config_false_ignores_pip(project: FakeProject) -> None:
    ignored = VERSIONS + "[sources]\ncarry-pip-config = false\n"
    # --offline: the harness must not ask pypi.org (the default index) whether the versions exist; uv is
    # offline too and told of no index, so nothing resolves: an offline cache miss is an accident, not the
    # resolver's proof, so each probe is recorded as UNAVAILABLE (and will be probed again).
    records = repro(project, ignored, {"PIP_INDEX_URL": project.index_url}, "--offline")
    assert outcomes(records) == {"1.3": "UNAVAILABLE", "1.4": "UNAVAILABLE"}
    for record in records:
        assert record["sources"]["index_url"] is None
        assert "fakedep was not found in the cache" in str(record["installer_message"])
