"""One probe: a case, a set of pins, parameters -> a stored record, reusing an identical earlier one.

A probe that fails for want of an undeclared dependency (harness.model.repair says which) is probed again with
the distribution that provides the module added, unpinned and time-travelled like the rest; the record
stored under the request's key is the last attempt's, and it lists what was added and why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.environments.interface import BuildFailure, EnvironmentProvider, EnvironmentRequest, SourceCheckout
from harness.model.case import Case, Parameters
from harness.model.pins import Pin, pin_set
from harness.model.probe_record import ProbeRecord, ProbeRequest, SourceTree, Timings
from harness.model.repair import RepairNeed, repair_for, repair_need
from harness.probing.lookahead import NotProbedAhead, guess_round
from harness.probing.preparing import PREPARED_AHEAD, Prepared, PreparingAhead
from harness.probing.record_store import RecordStore
from harness.probing.repeat import run_repeated
from harness.runners.interface import CaseRunner
from harness.sources import PackageSources


@dataclass(frozen=True)
class ProbeResult:
    record: ProbeRecord
    reused: bool
    """The record came from the store: nothing was built or run."""


FindDistribution = Callable[[Sequence[str]], "str | None"]
"""The first of some distribution names that the configured index lists as a project, or None."""


def sources_digest(sources: PackageSources) -> str:
    return hashlib.sha256(json.dumps(sources.describe(), sort_keys=True).encode()).hexdigest()[:12]


class Prober:
    """Runs probes through an environment provider and a case runner, storing every record it makes."""

    def __init__(
        self,
        provider: EnvironmentProvider,
        runner: CaseRunner,
        store: RecordStore,
        *,
        python: str,
        sources: PackageSources,
        fresh: bool = False,
        repeat: int | None = None,
        find_distribution: FindDistribution | None = None,
        prepared_ahead: int = PREPARED_AHEAD,
    ) -> None:
        """``find_distribution`` None turns repair off (``--no-repair``): requests say so, and so do their keys.
        ``prepared_ahead``: environments ``prepare_ahead`` prepares at once."""
        self.provider = provider
        self.runner = runner
        self.store = store
        self.python = python
        self.sources = sources
        self.fresh = fresh
        self.repeat = repeat
        """Runs per probe for every case (``--repeat``); None: each case's own ``repeat``."""
        self.find_distribution = find_distribution
        self._ahead: PreparingAhead[str, tuple[Case, EnvironmentRequest]] = PreparingAhead(
            lambda job: self._prepare_now(*job), prepared_ahead
        )
        self._considered_ahead: set[str] = set()

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Environments being prepared ahead are finished (queued ones dropped), then the runner's workers end."""
        self._ahead.close()
        self.runner.close()

    def prepare_ahead(self, probes: Iterable[tuple[Case, ProbeRequest]]) -> None:
        """Prepare, in the background and in this order, the environments of probes that will run later and need
        one (no stored record answers them); ``probe`` then takes each ready-made. Probes of a source tree
        build from a checkout made for them, and are not prepared ahead."""
        for case, request in probes:
            if request.key in self._considered_ahead:
                continue  # the sessions of a Nox run name the probes still to come again and again
            self._considered_ahead.add(request.key)
            if request.source is None and self.stored(request) is None:
                self._ahead.queue(request.key, (case, self._environment_request(case, request)))

    def request_for(
        self,
        case: Case,
        pins: tuple[Pin, ...],
        parameters: Parameters | None = None,
        *,
        forced: bool = False,
        exclude_newer: str | None = None,
        current_packages: tuple[str, ...] = (),
        source: SourceTree | None = None,
        repeat: int | None = None,
        sample: int = 0,
    ) -> ProbeRequest:
        return ProbeRequest(
            case_id=case.id,
            case_hash=case.content_hash,
            parameters=case.parameters if parameters is None else parameters,
            pins=pin_set(pins),
            python=self.python,
            forced=forced,
            exclude_newer=exclude_newer,
            current_packages=tuple(sorted(current_packages)) if exclude_newer else (),
            sources_digest=sources_digest(self.sources),
            source=source,
            repeat=repeat or self.repeat or case.repeat,
            sample=sample,
            repair=self.find_distribution is not None,
        )

    def stored(self, request: ProbeRequest) -> ProbeRecord | None:
        """The stored record that answers ``request``; an accident (UNAVAILABLE) is no answer, so it is probed again."""
        if self.fresh:
            return None
        record = self.store.get(request.case_id, request.key)
        return record if record is not None and record.outcome.is_verdict else None

    def probe(self, case: Case, request: ProbeRequest, *, source_tree: Path | None = None) -> ProbeResult:
        """The stored record for ``request``, else a new one; a request with a ``source`` builds the package
        from ``source_tree``, a checkout of that commit (a stored record needs none)."""
        existing = self.stored(request)
        record = existing if existing is not None else self._execute(case, request, source_tree)
        record = self._repaired(case, request, source_tree, record)
        if record is existing:
            return ProbeResult(record, reused=True)
        self.store.put(record)
        return ProbeResult(record, reused=False)

    def _repaired(
        self, case: Case, request: ProbeRequest, source_tree: Path | None, record: ProbeRecord
    ) -> ProbeRecord:
        """Probe again, one added distribution at a time, while the last attempt lacked an undeclared one."""
        while (need := self._need(request, record)) is not None:
            assert self.find_distribution is not None  # _need says so
            distribution = self.find_distribution(need.candidates)
            if distribution is None:
                break  # nothing on the index provides it: the probe stays as it was, and says why in its detail
            repairs = (*record.repairs, repair_for(need, distribution, record.resolved))
            attempt = self._execute(case, request, source_tree, tuple(repair.added for repair in repairs))
            record = replace(attempt, repairs=repairs)
        return record

    def _need(self, request: ProbeRequest, record: ProbeRecord) -> RepairNeed | None:
        if not request.repair or self.find_distribution is None:
            return None
        return repair_need(record.outcome, record.error_type, record.missing_module, record.repairs)

    def _environment_request(
        self,
        case: Case,
        request: ProbeRequest,
        checkout: SourceCheckout | None = None,
        added: tuple[str, ...] = (),
    ) -> EnvironmentRequest:
        return EnvironmentRequest(
            pins=request.pins,
            python=request.python,
            sources=self.sources,
            forced=request.forced,
            exclude_newer=request.exclude_newer,
            current_packages=request.current_packages,
            extra_requirements=(*case.extra_requirements, *added),
            source_tree=checkout,
        )

    def _prepare(
        self, case: Case, environment: EnvironmentRequest, request: ProbeRequest, added: tuple[str, ...]
    ) -> Prepared:
        """The environment prepared ahead for this probe's first attempt, else one prepared now. An accident
        met ahead (the index unreachable a moment ago) is no answer: it is tried once more, now."""
        ahead = self._ahead.take(request.key) if not added and environment.source_tree is None else None
        if ahead is None or (isinstance(ahead, BuildFailure) and not ahead.verdict.outcome.is_verdict):
            return self._prepare_now(case, environment)
        return ahead

    def _prepare_now(self, case: Case, environment: EnvironmentRequest) -> Prepared:
        """``fresh`` resolves the request again first, half a second or more while the index is slow. The
        environment it was last prepared into is most often what it resolves to again, so the runner gets
        ready there meanwhile (a fork worker imports torch): a head start, never a place to probe in, since
        what a runner holds is proven against the environment each probe really runs in."""
        if self.fresh and (last := self.provider.last_prepared(environment)) is not None:
            with contextlib.suppress(OSError):  # that environment went meanwhile: no head start, nothing lost
                self.runner.ready(last, case, guess_round=guess_round())
        return self.provider.prepare(environment, fresh=self.fresh)

    def _execute(
        self, case: Case, request: ProbeRequest, source_tree: Path | None, added: tuple[str, ...] = ()
    ) -> ProbeRecord:
        started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        checkout = None
        if request.source is not None:
            if source_tree is None:
                raise ValueError(f"probing {request.source.package} at {request.source.commit} needs its checkout")
            checkout = SourceCheckout(request.source.package, source_tree, request.source.commit)
        environment = self._prepare(case, self._environment_request(case, request, checkout, added), request, added)
        if isinstance(environment, BuildFailure):
            return ProbeRecord(
                request=request,
                started_at=started_at,
                sources=self.sources.describe(),
                outcome=environment.verdict.outcome,
                detail=environment.verdict.detail.splitlines()[0] if environment.verdict.detail else "",
                installer_message=environment.installer_message,
                timings=Timings(environment.resolve_seconds, environment.install_seconds, 0.0),
            )
        if (guess := guess_round()) and not self.runner.ready(environment, case, guess_round=guess):
            raise NotProbedAhead  # a guess that would wait for the runner; its environment is ready for later
        repeated = run_repeated(
            self.runner,
            environment,
            case,
            request.parameters,
            case.signature.render(dict(request.parameters)),
            repeat=request.repeat,
            sample=request.sample,
        )
        result, verdict = repeated.representative, repeated.judged.verdict
        error = result.observation.error
        return ProbeRecord(
            request=request,
            started_at=started_at,
            sources=self.sources.describe(),
            outcome=verdict.outcome,
            detail=verdict.detail,
            resolved=environment.resolved,
            error_type=error.type_name if error else None,
            error_message=error.message if error else None,
            traceback_tail=error.traceback_tail if error else (result.observation.stderr_tail or None),
            python_full=result.python_full,
            platform=result.platform,
            timings=Timings(environment.resolve_seconds, environment.install_seconds, repeated.seconds),
            mode=result.mode,
            environment_id=environment.environment_id,
            repeats=repeated.judged.repeats,
            missing_module=error.missing_module if error else None,
        )
