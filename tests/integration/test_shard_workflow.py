"""The steps of .github/workflows/repro-matrix.yml, run here on fake packages: list the shards from a previous
run's records, run each shard in its own copy of the project, merge the records, and report once."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import FakeProject, make_project

pytestmark = pytest.mark.integration

VERSIONS = '[packages.fakepkg]\nrange = ">=1.0"\n[packages.fakedep]\nversions = ["2.0"]\n'
COSTS = {"1.0": 50.0, "1.1": 30.0, "1.2": 20.0}
"""Seconds the previous run's records say these took; every other combination took 1 s, but 1.9's is lost."""


def label(version: str) -> str:
    return f"fakepkg=={version},fakedep==2.0"


def copy_of(project: FakeProject, root: Path) -> FakeProject:
    """A fresh checkout of the project, as each job of the workflow starts from: cases and versions.toml only."""
    shutil.copytree(project.root / "cases", root / "cases")
    shutil.copy2(project.root / "versions.toml", root / "versions.toml")
    return dataclasses.replace(project, root=root, environ={**project.environ, "HARNESS_ROOT": str(root)})


def record_files(project: FakeProject) -> list[Path]:
    return sorted((project.root / "reports" / "records").glob("*/*.json"))


def requested_version(path: Path) -> str:
    data: dict[str, Any] = json.loads(path.read_text())
    return str(data["requested"]["fakepkg"])


def test_list_shard_merge_report(tmp_path: Path) -> None:
    project = make_project(tmp_path, hang=(), unresolvable=("1.7",))
    project.write_versions(VERSIONS)

    # The previous run's records, which the workflow restores from its cache, give each combination's cost.
    previous = copy_of(project, tmp_path / "previous")
    assert previous.harness("repro", "--no-report").returncode == 0
    costs_dir = tmp_path / "costs"
    for path in record_files(previous):
        version = requested_version(path)
        if version == "1.9":
            continue  # a combination no record times: it costs the median of the others
        data = json.loads(path.read_text())
        data["timings"] = {"resolve": 0.0, "install": 0.0, "run": COSTS.get(version, 1.0)}
        target = costs_dir / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data))

    # Step 1: list the shards.
    listing = copy_of(project, tmp_path / "list").harness(
        "list", "--json", "--shards", "2", "--costs-from", str(costs_dir)
    )
    assert listing.returncode == 0, listing.output
    listed = json.loads(listing.stdout)
    estimates = {e["combination"]: (e["seconds"], e["known"]) for e in listed["estimates"]}
    assert estimates[label("1.0")] == (50.0, True)
    assert estimates[label("1.9")] == (1.0, False)  # the median of 50, 30, 20 and six 1s
    shards = {s["shard"]: s for s in listed["shards"]}
    # Largest first to the cheaper shard: 50 | 30 + 20 | then the 1s alternate, the lower shard first on a tie.
    assert [shards["1/2"]["seconds"], shards["2/2"]["seconds"]] == [54.0, 53.0]
    assert label("1.0") in shards["1/2"]["combinations"]
    assert {label("1.1"), label("1.2")} <= set(shards["2/2"]["combinations"])
    every = set(listed["combinations"])
    assert len(every) == 10
    assert set(shards["1/2"]["combinations"]) | set(shards["2/2"]["combinations"]) == every

    # Step 2: each shard in its own job (its own copy of the project), records only.
    merged = copy_of(project, tmp_path / "merged")
    for shard in ("1/2", "2/2"):
        job = copy_of(project, tmp_path / f"shard-{shard[0]}")
        run = job.harness("repro", "--no-report", "--shard", shard, "--costs-from", str(costs_dir))
        assert run.returncode == 0, run.output
        assert f"shard {shard}: {len(shards[shard]['combinations'])} probes (0 from stored records)" in run.stdout
        ran = {label(requested_version(path)) for path in record_files(job)}
        assert ran == set(shards[shard]["combinations"])
        # Step 3: the merge job copies every job's records into one reports/records/.
        for path in record_files(job):
            target = merged.root / "reports" / "records" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            assert not target.exists(), f"{path.name} was probed by two shards"
            shutil.copy2(path, target)

    # Step 4: one report over the merged records.
    report = merged.nox("-s", "report")
    assert report.returncode == 0, report.output
    summary = json.loads((merged.root / "reports" / "fake_case" / "summary.json").read_text())
    summarized = [(cell["row"], tuple(cell["column"])) for cell in summary["cells"]]
    assert len(summarized) == len(set(summarized)) == len(every)
    assert {f"fakepkg=={row},fakedep=={column[0]}" for row, column in summarized} == every
    assert (merged.root / "reports" / "index.html").is_file()
