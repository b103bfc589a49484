"""A scratch project per test holding one real case (the recorded x-transformers one by default), and clones of
the packages' source repositories made from local mirrors.

Each test builds its own project folder, so no test reads records, reports or known-bad ranges that another
wrote; only the caches (environments under the checkout's .harness, uv's own) and the clones are shared, to stay
warm.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import process

REPO = Path(__file__).resolve().parents[2]
CASE = "rotary_xpos_batch1_seq32"
MIRRORS_VARIABLE = "HARNESS_REALWORLD_MIRRORS"
"""Where bare mirrors of the packages' repositories live, as ``<owner>+<name>/repo``."""
DEFAULT_MIRRORS = Path("/work/.mirror")
PLACEHOLDER = b"placeholder: blob missing from the mirror\n"


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


def project_for(tmp_path: Path, case_id: str) -> RealProject:
    """A fresh project folder under ``tmp_path`` holding a copy of the checkout's ``cases/<case_id>``."""
    root = tmp_path / "real"
    shutil.copytree(REPO / "cases" / case_id, root / "cases" / case_id)
    environ = dict(os.environ)
    # Environments are cached beside the checkout so that repeated runs of these tests stay warm.
    environ["HARNESS_HOME"] = str(REPO / ".harness")
    environ["PYTHONPATH"] = str(REPO)
    return RealProject(root, environ)


@pytest.fixture
def real_project(tmp_path: Path) -> RealProject:
    return project_for(tmp_path, CASE)


@pytest.fixture(scope="session")
def mirror_clone(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Working clones of mirrored repositories (``"pypa+packaging"``), made once per session; a test whose
    mirror is absent skips, naming where it looked."""
    mirrors = Path(os.environ.get(MIRRORS_VARIABLE) or DEFAULT_MIRRORS)
    made: dict[str, Path] = {}

    def clone(name: str) -> Path:
        if name not in made:
            source = mirrors / name / "repo"
            if not source.is_dir():
                pytest.skip(f"no mirror of {name} at {source} (set {MIRRORS_VARIABLE} to the folder of mirrors)")
            made[name] = _working_clone(source, tmp_path_factory.mktemp(name) / "clone")
        return made[name]

    return clone


def _working_clone(source: Path, into: Path) -> Path:
    _git(Path.cwd(), "clone", "--quiet", "--no-checkout", str(source), str(into))
    # A mirror may lack a few large blobs; without a stand-in, checkouts (and git worktree add) of any commit
    # holding one fail. -f because git cannot tell the type of an object it does not have.
    listed = _git(into, "rev-list", "--objects", "--all", "--missing=print")
    missing = [line[1:] for line in listed.splitlines() if line.startswith("?")]
    if missing:
        placeholder_file = into.parent / "placeholder"
        placeholder_file.write_bytes(PLACEHOLDER)
        placeholder = _git(into, "hash-object", "-w", str(placeholder_file)).strip()
        for sha in missing:
            _git(into, "replace", "-f", sha, placeholder)
    _git(into, "checkout", "--quiet")
    return into


def _git(where: Path, *args: str) -> str:
    done = process.run(["git", "-C", str(where), *args], timeout=600)
    assert done.ok, f"git {' '.join(args)} failed: {done.output}"
    return done.stdout
