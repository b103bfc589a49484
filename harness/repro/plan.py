"""The repro job: every case, in every combination of the matrix, as independent probes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError
from harness.model.case import Case
from harness.model.matrix import Combination, Matrix
from harness.model.outcome import Outcome
from harness.model.probe_record import ProbeRecord, ProbeRequest
from harness.probing.prober import Prober, ProbeResult


@dataclass(frozen=True)
class PlannedProbe:
    case: Case
    combination: Combination
    request: ProbeRequest

    @property
    def label(self) -> str:
        return f"{self.case.id} @ {self.combination.label}"


def plan(
    cases: Sequence[Case], combinations: Sequence[Combination], prober: Prober, *, forced: bool = False
) -> list[PlannedProbe]:
    """One probe per (combination, case) where the case concerns a package the combination pins; a combination
    on a Python axis is probed with its own Python."""
    planned = []
    for combination in combinations:
        names = {pin.name for pin in combination.pins}
        for case in cases:
            if case.concerns(names):
                request = prober.request_for(case, combination.pins, forced=forced)
                if combination.python is not None:
                    request = dataclasses.replace(request, python=combination.python)
                planned.append(PlannedProbe(case, combination, request))
    return planned


def select(matrix: Matrix, labels: Sequence[str]) -> list[Combination]:
    """The combinations named on the command line (as `nox -l` shows them), or all of them."""
    if not labels:
        return list(matrix.combinations)
    by_label = {c.label: c for c in matrix.combinations}
    unknown = [label for label in labels if label not in by_label]
    if unknown:
        raise ConfigError(f"{unknown[0]!r} is not a combination of versions.toml; list them with: nox -l")
    return [by_label[label] for label in labels]


def missing_python_record(request: ProbeRequest, sources: Mapping[str, Any], reason: str) -> ProbeRecord:
    """The record of a probe whose Python uv cannot find (versions.toml's missing-python = "record")."""
    return ProbeRecord(
        request=request,
        outcome=Outcome.INSTALL_FAILED,
        detail=f"no Python {request.python} on this machine",
        installer_message=reason,
        started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        sources=sources,
    )


ProbeListener = Callable[[PlannedProbe, ProbeResult], None]


def execute(
    planned: Sequence[PlannedProbe],
    prober: Prober,
    *,
    jobs: int = 1,
    on_start: Callable[[PlannedProbe], None] | None = None,
    on_done: ProbeListener | None = None,
) -> list[ProbeResult]:
    """Run the probes, up to ``jobs`` at a time; each record is stored the moment it exists.

    Probes of one combination share an environment, so they are started in plan order: the first builds
    the environment while later ones wait on its lock instead of building it twice. The environments of the
    probes after the running ones are prepared beside them (``Prober.prepare_ahead``).
    """
    results: list[ProbeResult] = []
    prober.prepare_ahead((item.case, item.request) for item in planned)

    def run_one(item: PlannedProbe) -> ProbeResult:
        if on_start:
            on_start(item)
        return prober.probe(item.case, item.request)

    if jobs <= 1:
        for item in planned:
            result = run_one(item)
            results.append(result)
            if on_done:
                on_done(item, result)
        return results
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending: dict[Future[ProbeResult], PlannedProbe] = {}
        queue = list(planned)
        try:
            while queue or pending:
                while queue and len(pending) < jobs:
                    item = queue.pop(0)
                    pending[pool.submit(run_one, item)] = item
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item = pending.pop(future)
                    result = future.result()
                    results.append(result)
                    if on_done:
                        on_done(item, result)
        except BaseException:
            queue.clear()
            for future in pending:
                future.cancel()
            raise
    return results
