"""A scratch project per test holding the recorded case, probed with real x-transformers, einops and torch.

Each test builds its own project folder, so no test reads records, reports or known-bad ranges that another
wrote; only the caches (environments under the checkout's .harness, uv's own) are shared, to stay warm.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import process

REPO = Path(__file__).resolve().parents[2]
CASE = "rotary_xpos_batch1_seq32"


@dataclass(frozen=True)
class RealProject:
    root: Path
    environ: dict[str, str]

    def harness(self, *args: str, timeout: float = 3000) -> process.Completed:
        return process.run(
            [sys.executable, "-m", "harness", "--root", self.root, *args], cwd=REPO, env=self.environ, timeout=timeout
        )

    def write_versions(self, packages: dict[str, list[str]]) -> None:
        body = "".join(
            f"[packages.{name}]\nversions = {versions!r}\n".replace("'", '"') for name, versions in packages.items()
        )
        (self.root / "versions.toml").write_text(f'python = "3.11"\n{body}', encoding="utf-8")


@pytest.fixture
def real_project(tmp_path: Path) -> RealProject:
    root = tmp_path / "real"
    shutil.copytree(REPO / "cases" / CASE, root / "cases" / CASE)
    environ = dict(os.environ)
    # Environments are cached beside the checkout so that repeated runs of these tests stay warm.
    environ["HARNESS_HOME"] = str(REPO / ".harness")
    environ["PYTHONPATH"] = str(REPO)
    return RealProject(root, environ)
