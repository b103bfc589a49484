"""The probes of the sessions Nox has queued, run ahead while the current session waits for its own.

``nox -s repro`` runs one session per combination, one after another, each with a probe or two: on its own,
every session would leave all cores but one idle. The sessions of one Nox run share a prober (and its fork
workers); this keeps a few threads beside it that start the probes of the sessions queued next, so that a
session usually finds its answer already there. Each session still reports, and owns, exactly its own probes;
a record is stored the moment it exists, by whichever thread made it, as in ``repro --jobs``.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.probing.lookahead import Lookahead
from harness.probing.prober import Prober, ProbeResult
from harness.repro.plan import PlannedProbe

ProbeKey = tuple[str, str]


def probe_key(item: PlannedProbe) -> ProbeKey:
    return item.request.case_id, item.request.key


class SessionLookahead:
    """Up to ``jobs`` probes at once, the current session's first, then those of the sessions queued after it;
    beside them, the environments of the probes that come next (``Prober.prepare_ahead``)."""

    def __init__(self, prober: Prober, jobs: int) -> None:
        self._prober = prober
        self._planned: dict[ProbeKey, PlannedProbe] = {}
        self._lookahead: Lookahead[ProbeKey, ProbeResult] = Lookahead(self._probe, jobs)

    def start(self, items: Sequence[PlannedProbe]) -> None:
        """Start the first of ``items`` that are not yet running, while threads are free (in their order)."""
        for item in items:
            self._planned.setdefault(probe_key(item), item)
        self._lookahead.start([probe_key(item) for item in items])
        self._prober.prepare_ahead((item.case, item.request) for item in items)

    def answer(self, item: PlannedProbe) -> ProbeResult:
        """``item``'s result: the one run ahead, else probed now; each is handed over once."""
        self._planned.setdefault(probe_key(item), item)
        return self._lookahead.answer(probe_key(item))

    def close(self) -> None:
        """Probes already running finish (their records are true answers for the next run); queued ones don't."""
        self._lookahead.__exit__(None, None, None)

    def _probe(self, key: ProbeKey) -> ProbeResult:
        item = self._planned[key]
        return self._prober.probe(item.case, item.request)
