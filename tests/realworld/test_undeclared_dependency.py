"""Real x-transformers releases that import `packaging` undeclared bisect exactly, with `packaging` repaired."""

from __future__ import annotations

import json
import time

import pytest

from tests.realworld.conftest import RealProject

pytestmark = pytest.mark.realworld

CASE = "xt_undeclared_packaging"
CASE_TOML = """\
# Recorded at x-transformers 1.30.0, inside the releases (1.12.0 to 1.42.11) that import `packaging` without
# declaring it; torch 2.13 does not bring it. No `requirements`: the harness must add it by itself.
id = "xt_undeclared_packaging"
title = "A failure recorded inside x-transformers' undeclared-packaging releases"
packages = ["x-transformers", "einops", "torch"]
timeout = 300

[signature]
exception = "RuntimeError"
message_contains = ["regression window"]

[recorded_environment]
python = "3.11"
x-transformers = "1.30.0"
einops = "0.8.0"
torch = "2.13.0"
"""

REPLAY = '''\
"""A forward pass through a small Decoder, with a failure window of known releases (1.30.0 up to 1.32.0).

The window is set here rather than found in x-transformers' history, so that the boundaries the bisection
must find are known in advance; what is real is everything the repair depends on: the releases, their
undeclared ``import packaging`` in ``x_transformers/attend.py``, torch 2.13 and time-travel resolution.
"""

import importlib.metadata

import torch
from x_transformers import Decoder, TransformerWrapper

WINDOW = ((1, 30, 0), (1, 32, 0))


def replay() -> None:
    torch.manual_seed(0)
    model = TransformerWrapper(num_tokens=64, max_seq_len=16, attn_layers=Decoder(dim=16, depth=1, heads=2))
    with torch.no_grad():
        logits = model(torch.randint(0, 64, (1, 8)))
    assert logits.shape == (1, 8, 64), logits.shape
    version = tuple(int(part) for part in importlib.metadata.version("x-transformers").split(".")[:3])
    if WINDOW[0] <= version < WINDOW[1]:
        raise RuntimeError(f"x-transformers {version} is inside the regression window")


if __name__ == "__main__":
    replay()
'''


def test_bisection_inside_the_undeclared_packaging_releases(real_project: RealProject) -> None:
    folder = real_project.root / "cases" / CASE
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    (folder / "replay.py").write_text(REPLAY, encoding="utf-8")
    real_project.write_versions({"x-transformers": ["1.30.0"], "einops": ["0.8.0"], "torch": ["2.13.0"]})
    started = time.monotonic()
    result = real_project.harness("bisect", CASE, "x-transformers", "--mode", "fork")
    print(f"bisect wall time: {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, result.output
    report = json.loads((real_project.root / "reports" / "bisect" / f"{CASE}--x-transformers.json").read_text())
    print(f"{len(report['probes'])} probes")
    for probe in report["probes"]:
        print(probe["version"], probe["outcome"], f"{probe['seconds']:.0f} s", probe["detail"][:70])
    assert (report["regression"]["last_good"], report["regression"]["first_bad"]) == ("1.29.2", "1.30.0")
    assert (report["fix"]["last_bad"], report["fix"]["first_fixed"]) == ("1.31.14", "1.32.0")
    records = [
        json.loads(path.read_text())
        for path in (real_project.root / "reports" / "records").rglob("*.json")
        if json.loads(path.read_text()).get("case_id") == CASE
    ]
    repaired = [record for record in records if record["repairs"]]
    assert repaired, "no probe needed packaging"
    for record in repaired:
        version = record["requested"]["x-transformers"]
        (repair,) = record["repairs"]
        # attend.py in most of these releases, x_transformers.py in some: the file that really imported it.
        assert repair["imported_by"] in {"x_transformers/attend.py", "x_transformers/x_transformers.py"}
        assert (repair["added"], repair["module"]) == ("packaging", "packaging")
        assert repair["reason"] == f"not declared by x-transformers {version}"
        assert "packaging" in record["resolved"]
    markdown = (real_project.root / "reports" / "bisect" / f"{CASE}--x-transformers.md").read_text()
    assert "## Repaired probes" in markdown
