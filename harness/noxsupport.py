"""What the noxfile needs: the matrix expanded once per Nox run, and ways to run harness commands as sessions."""

from __future__ import annotations

import atexit
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from harness.errors import HarnessError
from harness.workspace import ExpandedMatrix, KeptProbers, Workspace, load_expanded_matrix

REPORT_SESSION = "report"

# Nox logs every logger at debug level to its output; the index client's connection chatter is not news.
logging.getLogger("urllib3").setLevel(logging.WARNING)


@dataclass(frozen=True)
class NoxMatrix:
    labels: tuple[str, ...]
    error: str | None = None
    costs: tuple[dict[str, object], ...] = ()
    """Per label, what ``nox -l --json`` shows as its cost: ``{"seconds": s, "known": bool}`` from the stored
    records (the median of the known ones where none timed it), as ``harness list --json`` estimates it."""
    expanded: ExpandedMatrix | None = None
    """What every ``repro`` session of this Nox run replays: expanded once, when the noxfile is imported."""
    kept: KeptProbers = field(default_factory=KeptProbers, compare=False)
    """The probers every ``repro`` session of this Nox run shares, so that the fork workers start once; the
    report session, which nox runs last, closes them, and so does the exit (nox may queue no report)."""


def repro_matrix(root: Path) -> NoxMatrix:
    """The session ids for `nox -l`; a broken versions.toml becomes one session that explains it."""
    try:
        expanded = load_expanded_matrix(Workspace.at(root))
    except HarnessError as exc:
        return NoxMatrix((), str(exc))
    labels = tuple(c.label for c in expanded.matrix.combinations)
    matrix = NoxMatrix(labels, costs=_costs(expanded, labels), expanded=expanded)
    atexit.register(matrix.kept.close)
    return matrix


def _costs(expanded: ExpandedMatrix, labels: Sequence[str]) -> tuple[dict[str, object], ...]:
    """Each combination's estimated cost; unknown (None) for all when the cases cannot be read: the repro
    sessions then report that themselves."""
    from harness.repro.command import estimates  # noqa: PLC0415 - only what the estimate needs
    from harness.workspace import make_prober  # noqa: PLC0415

    unknown: dict[str, object] = {"seconds": None, "known": False}
    try:
        cases = expanded.workspace.cases()
        prober = make_prober(expanded.workspace, expanded.spec, expanded.sources, fresh=False)
        found = {e.label: e for e in estimates(expanded, cases, prober, prober.store)}
    except HarnessError:
        return tuple(unknown for _ in labels)
    return tuple(
        {"seconds": round(found[label].seconds, 3), "known": found[label].known} if label in found else unknown
        for label in labels
    )


class _Session(Protocol):
    def error(self, *args: object) -> None: ...


class _NotifyingSession(_Session, Protocol):
    def notify(self, target: str, posargs: Sequence[str] | None = None) -> None: ...


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


def run_repro(session: _NotifyingSession, matrix: NoxMatrix, combination: str, posargs: Sequence[str]) -> None:
    """One ``repro(...)`` session: write this combination's records; the report session rebuilds once, at the end.

    The report is queued first, so that it still runs when this session fails. The combination comes from the
    matrix the noxfile expanded; only ``-- --versions FILE`` (another matrix) makes the command expand again.
    Every session of the run probes through the same kept probers, so the fork workers outlive each session.
    """
    try:
        session.notify(REPORT_SESSION, posargs=[])
        records_only = ["--no-report"]
    except ValueError:
        # Under --no-dependencies (so under --parallel) nox queues nothing: each session then writes the
        # summaries itself, as every session did before there was a report session.
        records_only = []
    argv = ["repro", *records_only, "--only", combination, *posargs]
    from harness._cli import build_parser  # noqa: PLC0415 - keeps `nox -l` from importing every command
    from harness.repro.command import run_expanded  # noqa: PLC0415

    args = build_parser().parse_args(argv)
    if args.versions is not None or matrix.expanded is None:
        run_harness(session, argv)
        return
    try:
        status = run_expanded(args, matrix.expanded, kept=matrix.kept, queued=queued_combinations(session))
    except HarnessError as exc:
        # As `harness` itself reports it: one line, no traceback.
        print(f"harness: error: {exc}", file=sys.stderr)
        status = 2
    if status != 0:
        session.error(f"harness repro exited with status {status}")


def queued_combinations(session: object) -> tuple[str, ...]:
    """The combinations of the repro sessions that Nox will run after this one, in its order.

    Nox has no public way to ask; its runner's manifest holds the queue. Whatever is not found there means
    nothing is queued, and each session then only probes its own combination, as before.
    """
    queue = getattr(getattr(getattr(session, "_runner", None), "manifest", None), "_queue", None)
    if not isinstance(queue, list):
        return ()
    labels = []
    for runner in queue:
        call_spec = getattr(getattr(runner, "func", None), "call_spec", None)
        if getattr(runner, "name", None) == "repro" and isinstance(call_spec, dict):
            label = call_spec.get("combination")
            if isinstance(label, str):
                labels.append(label)
    return tuple(labels)


def write_schemas(folder: Path) -> list[Path]:
    """Write the JSON Schemas generated from the models (``nox -s schemas``); the model itself stays pure."""
    from harness.files import write_atomically  # noqa: PLC0415
    from harness.model.schema import SCHEMA_FILES, schema_text  # noqa: PLC0415

    written = []
    for schema_file in SCHEMA_FILES:
        write_atomically(folder / schema_file.name, schema_text(schema_file))
        written.append(folder / schema_file.name)
    return written
