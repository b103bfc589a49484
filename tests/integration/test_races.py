"""Parallel probes of several cases on one environment: every record is right, however the threads interleave."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import make_project

pytestmark = pytest.mark.integration

VERSIONS = (
    '[packages.fakepkg]\nversions = ["1.0", "1.3", "1.4", "1.5", "1.6"]\n\n[packages.fakedep]\nversions = ["2.0"]\n'
)


def test_jobs_2_with_cases_sharing_environments_records_every_probe_correctly(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.write_versions(VERSIONS)
    source = project.root / "cases" / "fake_case"
    for suffix in ("b", "c"):
        copy = project.root / "cases" / f"fake_case_{suffix}"
        shutil.copytree(source, copy)
        toml = copy / "case.toml"
        toml.write_text(toml.read_text().replace('id = "fake_case"', f'id = "fake_case_{suffix}"'), encoding="utf-8")
    expected = {v: project.package.expected_outcome(v).value for v in ("1.0", "1.3", "1.4", "1.5", "1.6")}
    for attempt in range(3):
        # --fresh re-resolves every request each time, so the resolve step itself is raced too.
        result = project.harness("repro", "--jobs", "2", "--fresh")
        assert result.returncode == 0, f"attempt {attempt}: {result.output}"
        for case_id in ("fake_case", "fake_case_b", "fake_case_c"):
            folder = project.root / "reports" / "records" / case_id
            found = {}
            for path in folder.glob("*.json"):
                record = json.loads(path.read_text(encoding="utf-8"))
                found[record["requested"]["fakepkg"]] = record["outcome"]
            assert found == {f"{v}": o for v, o in expected.items()}, f"attempt {attempt}, {case_id}: {found}"
    staging = list((Path(project.environ["HARNESS_HOME"]) / "locks").glob("*staging*"))
    assert staging == [], "staging folders were left behind"
