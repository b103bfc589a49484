"""What the noxfile needs: the matrix as session ids, and a way to run a harness command as a session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.errors import HarnessError
from harness.workspace import Workspace, expand_matrix, package_sources


@dataclass(frozen=True)
class NoxMatrix:
    labels: tuple[str, ...]
    error: str | None = None


def repro_matrix(root: Path) -> NoxMatrix:
    """The session ids for `nox -l`; a broken versions.toml becomes one session that explains it."""
    workspace = Workspace.at(root)
    try:
        spec = workspace.matrix_spec()
        matrix = expand_matrix(workspace, spec, package_sources(spec))
    except HarnessError as exc:
        return NoxMatrix((), str(exc))
    return NoxMatrix(tuple(c.label for c in matrix.combinations))


class _Session(Protocol):
    def error(self, *args: object) -> None: ...


def run_harness(session: _Session, argv: Sequence[str], *, keep_exit_status: bool = False) -> None:
    """Run a harness command in the nox process; a failure fails the session.

    With ``keep_exit_status`` nox itself exits with the command's status, so ``nox -s gate`` keeps the gate's
    documented codes (1 failed, 2 bad usage, 3 undecided) instead of nox's single 1 for any failure.
    """
    from harness._cli import main  # noqa: PLC0415 - keeps `nox -l` from importing every command

    status = main(list(argv))
    if status != 0 and keep_exit_status:
        raise SystemExit(status)
    if status != 0:
        session.error(f"harness {argv[0]} exited with status {status}")
