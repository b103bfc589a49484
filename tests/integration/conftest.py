"""A throw-away project with a fake package on a local index, for running the real pipeline offline."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import process
from tests.fakeindex import DEFAULT_VERSIONS, FakePackage, make_fake_dependency, make_fake_package, write_simple_index

REPO = Path(__file__).resolve().parents[2]

REPLAY = """
import fakepkg


def replay(n: int = 3) -> None:
    assert fakepkg.compute(n) == [[i] for i in range(n)]
"""

CASE = """
id = "fake_case"
title = "fakepkg raises FakeError for pattern n -> n 1"
packages = ["fakepkg", "fakedep"]
timeout = {timeout}

[parameters]
n = 3

[signature]
exception = "fakepkg.FakeError"
message_contains = ["pattern 'n -> n 1'", "input shape (1, $n)"]

[recorded_environment]
fakepkg = "{recorded}"
fakedep = "2.0"

[sweep]
n = [1, 4]
"""


@dataclass(frozen=True)
class FakeProject:
    root: Path
    index_url: str
    package: FakePackage
    environ: dict[str, str]

    def write_versions(self, body: str) -> None:
        sources = f'[sources]\ncarry-pip-config = false\nindex-url = "{self.index_url}"\n'
        (self.root / "versions.toml").write_text(f'python = "3.11"\n{body}\n{sources}', encoding="utf-8")

    def harness(self, *args: str, timeout: float = 600) -> process.Completed:
        return process.run(
            [sys.executable, "-m", "harness", "--root", self.root, *args],
            cwd=REPO,
            env=self.environ,
            timeout=timeout,
        )

    def nox(self, *args: str, timeout: float = 600) -> process.Completed:
        return process.run(
            [sys.executable, "-m", "nox", "-f", REPO / "noxfile.py", *args],
            cwd=REPO,
            env=self.environ,
            timeout=timeout,
        )


def offline_environ(root: Path) -> dict[str, str]:
    """This machine's environment without pip's or uv's settings: uv offline, caches and the project under root."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    return environ | {
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_NO_CONFIG": "1",
        "UV_OFFLINE": "1",
        "HARNESS_HOME": str(root / "harness-home"),
        "HARNESS_ROOT": str(root / "project"),
        "PYTHONPATH": str(REPO),
    }


def make_project(
    root: Path,
    *,
    versions: Sequence[str] = DEFAULT_VERSIONS,
    bad: Sequence[str] = ("1.4", "1.5", "1.6"),
    hang: Sequence[str] = ("1.8",),
    crash: Sequence[str] = (),
    other_error: Sequence[str] = ("1.2",),
    unresolvable: Sequence[str] = ("1.7",),
    timeout: float = 20,
    recorded: str = "1.5",
    flaky: Sequence[str] = (),
) -> FakeProject:
    wheels = root / "wheels"
    package = make_fake_package(
        wheels,
        versions=versions,
        bad=bad,
        hang=hang,
        crash=crash,
        other_error=other_error,
        unresolvable=unresolvable,
        flaky=flaky,
        requires={"1.5": ["fakedep>=2"]},
    )
    make_fake_dependency(wheels)
    index_url = write_simple_index(wheels, root / "simple")
    case_dir = root / "project" / "cases" / "fake_case"
    case_dir.mkdir(parents=True)
    (case_dir / "case.toml").write_text(CASE.format(timeout=timeout, recorded=recorded), encoding="utf-8")
    (case_dir / "replay.py").write_text(REPLAY, encoding="utf-8")
    environ = offline_environ(root)
    return FakeProject(root / "project", index_url, package, environ)


@pytest.fixture(scope="module")
def fake_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProject]:
    yield make_project(tmp_path_factory.mktemp("fake"))
