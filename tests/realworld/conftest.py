"""A scratch project holding the recorded case, probed with real x-transformers, einops and torch."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import process

REPO = Path(__file__).resolve().parents[2]


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


@pytest.fixture(scope="session")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> RealProject:
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(REPO / "cases" / "rotary_xpos_batch1_seq32", root / "cases" / "rotary_xpos_batch1_seq32")
    environ = dict(os.environ)
    # Environments are cached beside the checkout so that repeated runs of these tests stay warm.
    environ["HARNESS_HOME"] = str(REPO / ".harness")
    environ["PYTHONPATH"] = str(REPO)
    return RealProject(root, environ)
