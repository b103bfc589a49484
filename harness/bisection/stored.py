"""The bisection report file (``reports/bisect/<case>--<package>.json``) as a typed value, and its JSON codec.

Versions and times stay the text the file holds: the page and ``export`` show whatever a report names (one
copied in from another machine included) and sort with ``packaging`` where they can. Reading is tolerant, as
older results and aborted runs lack keys: a missing or odd field reads as empty, and only a file that is not a
bisection report at all raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.bisection.search import BisectVerdict, Direction, SearchStatus
from harness.bisection.stored_commits import (
    StoredCommits,
    commits_from,
    commits_json,
)
from harness.bisection.tolerant import enum, list_of, mapping_of, mappings, share, string, text_of, texts
from harness.errors import ConfigError
from harness.model.known_bad import KnownBadRange, range_from_json, range_to_json
from harness.model.outcome import Outcome

REPORT_SCHEMA = 1


_KIND = "bisection"


_SIDE_NAMES = {
    Direction.REGRESSION: ("last_good", "first_bad"),
    Direction.FIX: ("last_bad", "first_fixed"),
}


@dataclass(frozen=True)
class StoredProbe:
    """One release probed: this run's steps carry the search and verdict, outcomes known before do not."""

    version: str
    outcome_text: str
    seconds: float | None = None
    reused: bool = False
    detail: str = ""
    record_key: str | None = None
    uploaded: str | None = None
    search: Direction | None = None
    verdict: BisectVerdict | None = None

    @property
    def outcome(self) -> Outcome | None:
        """None for an outcome this harness does not name (a newer writer's); ``outcome_text`` still shows it."""
        return enum(Outcome, self.outcome_text)


@dataclass(frozen=True)
class StoredUnusable:
    """A release that could not be tested, and what made it unusable (its outcome and first line of detail)."""

    version: str
    outcome_text: str = ""
    detail: str = ""


@dataclass(frozen=True)
class StoredSearch:
    """One search's verdict: ``before``/``after`` are last good/first bad (regression) or last bad/first fixed,
    both None when the search was ambiguous (then ``candidates`` holds every release the step may be at)."""

    direction: Direction
    status: SearchStatus | None = None
    message: str = ""
    before: str | None = None
    after: str | None = None
    candidates: tuple[str, ...] = ()
    inconsistent: tuple[str, ...] = ()
    invalid_anchor: str | None = None
    uploaded: tuple[tuple[str, str], ...] = ()
    """(version, upload time) of ``before`` and ``after``, where known."""
    compare_url: str | None = None
    unusable: tuple[StoredUnusable, ...] = ()
    """Releases among the candidates (or beyond the last one seen) that could not be tested, and why."""
    untried: tuple[str, ...] = ()
    """Releases between unusable ones that were never probed."""


@dataclass(frozen=True)
class StoredRelease:
    version: str
    upload_time: str | None = None


@dataclass(frozen=True)
class StoredReprobe:
    """One release either side of a step, probed again before the step was reported."""

    version: str
    side: str
    expected: BisectVerdict | None
    verdict: BisectVerdict | None
    """The verdict on both probes' runs pooled."""
    first_text: str
    """The search's probe: its outcome and counts, e.g. ``PASSED 0/1``."""
    again_text: str
    pooled: str | None = None
    """Runs pooled, ``reproduced/runs``."""

    @property
    def confirmed(self) -> bool:
        return self.verdict is not None and self.verdict is self.expected


@dataclass(frozen=True)
class StoredConfirmation:
    runs: int
    """Runs per confirmation probe."""
    reprobes: tuple[StoredReprobe, ...] = ()


@dataclass(frozen=True)
class StoredBisection:
    case_id: str
    package: str
    held: tuple[str, ...] = ()
    finished_at: str | None = None
    different_error_is_bad: bool = False
    started_good: str | None = None
    started_bad: str | None = None
    probes: tuple[StoredProbe, ...] = ()
    """This run's probes, in the order they were made."""
    prior: tuple[StoredProbe, ...] = ()
    regression: StoredSearch | None = None
    fix: StoredSearch | None = None
    known_bad: KnownBadRange | None = None
    """The entry this run merged into ``reports/known-bad.json``."""
    repository_url: str | None = None
    reproduce_command: str | None = None
    notes: tuple[str, ...] = ()
    releases: tuple[StoredRelease, ...] = ()
    """Every release considered, oldest first: the page draws its timeline from them."""
    known_bad_range: str | None = None
    """The confirmed known-bad specifier (``>=1.42.21,<1.43.2``; ``""``, every release, only in older files);
    None when nothing reproduced."""
    commits: StoredCommits | None = None
    """The regression window of the commit phase (the first bad commit)."""
    fix_commits: StoredCommits | None = None
    """The fix window of the commit phase (the first fixed commit)."""
    flaky_threshold: float | None = None
    confirmation: StoredConfirmation | None = None

    @property
    def commit_windows(self) -> tuple[StoredCommits, ...]:
        return tuple(window for window in (self.commits, self.fix_commits) if window is not None)


# --- JSON out ----------------------------------------------------------------------------------------------------


def bisection_to_json(stored: StoredBisection) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema": REPORT_SCHEMA,
        "kind": _KIND,
        "case_id": stored.case_id,
        "package": stored.package,
        "held": list(stored.held),
        "finished_at": stored.finished_at,
        "policy": {"different_error_is_bad": stored.different_error_is_bad},
        "started_from": {"good": stored.started_good, "bad": stored.started_bad},
        "probes": [_probe_json(probe) for probe in stored.probes],
        "prior": [_probe_json(probe) for probe in stored.prior],
        "regression": None if stored.regression is None else _search_json(stored.regression),
        "fix": None if stored.fix is None else _search_json(stored.fix),
        "known_bad": None if stored.known_bad is None else range_to_json(stored.known_bad),
        "repository_url": stored.repository_url,
        "reproduce_command": stored.reproduce_command,
        "notes": list(stored.notes),
        "releases": [{"version": r.version, "upload_time": r.upload_time} for r in stored.releases],
        "known_bad_range": stored.known_bad_range,
    }
    if stored.commits is not None:
        data["commits"] = commits_json(stored.commits)
    if stored.fix_commits is not None:
        data["fix_commits"] = commits_json(stored.fix_commits)
    if stored.flaky_threshold is not None:
        data["policy"]["flaky_threshold"] = stored.flaky_threshold
    if stored.confirmation is not None:
        data["confirmation"] = {
            "runs": stored.confirmation.runs,
            "reprobes": [_reprobe_json(reprobe) for reprobe in stored.confirmation.reprobes],
        }
    return data


def _reprobe_json(reprobe: StoredReprobe) -> dict[str, Any]:
    return {
        "version": reprobe.version,
        "side": reprobe.side,
        "expected": None if reprobe.expected is None else reprobe.expected.value,
        "verdict": None if reprobe.verdict is None else reprobe.verdict.value,
        "confirmed": reprobe.confirmed,
        "first": reprobe.first_text,
        "again": reprobe.again_text,
        "pooled": reprobe.pooled,
    }


def _probe_json(probe: StoredProbe) -> dict[str, Any]:
    step = {"search": probe.search.value, "verdict": probe.verdict.value} if probe.search and probe.verdict else {}
    return {
        **step,
        "version": probe.version,
        "outcome": probe.outcome_text,
        "seconds": probe.seconds,
        "reused": probe.reused,
        "detail": probe.detail,
        "record_key": probe.record_key,
        "uploaded": probe.uploaded,
    }


def _search_json(search: StoredSearch) -> dict[str, Any]:
    before_name, after_name = _SIDE_NAMES[search.direction]
    return {
        "status": None if search.status is None else search.status.value,
        "message": search.message,
        before_name: search.before,
        after_name: search.after,
        "candidates": list(search.candidates),
        "inconsistent": list(search.inconsistent),
        "invalid_anchor": search.invalid_anchor,
        "uploaded": dict(search.uploaded),
        "compare_url": search.compare_url,
        "unusable": [{"version": u.version, "outcome": u.outcome_text, "detail": u.detail} for u in search.unusable],
        "untried": list(search.untried),
    }


def bisection_from_json(data: object) -> StoredBisection:
    """Inverse of ``bisection_to_json``, tolerant of missing or odd fields; ValueError if not a bisection report."""
    if not isinstance(data, Mapping):
        raise ValueError("not a JSON object")
    schema = data.get("schema", REPORT_SCHEMA)
    if schema != REPORT_SCHEMA:
        raise ValueError(f"bisection report schema {schema!r} is not supported (expected {REPORT_SCHEMA})")
    kind = data.get("kind", _KIND)
    if kind != _KIND:
        raise ValueError(f"a {kind!r} report, not a bisection report")
    policy = mapping_of(data.get("policy"))
    started = mapping_of(data.get("started_from"))
    return StoredBisection(
        case_id=text_of(data.get("case_id")) or "",
        package=text_of(data.get("package")) or "",
        held=texts(data.get("held")),
        finished_at=text_of(data.get("finished_at")),
        different_error_is_bad=policy.get("different_error_is_bad") is True,
        started_good=text_of(started.get("good")),
        started_bad=text_of(started.get("bad")),
        probes=_probes(data.get("probes")),
        prior=_probes(data.get("prior")),
        regression=_search_from(data.get("regression"), Direction.REGRESSION),
        fix=_search_from(data.get("fix"), Direction.FIX),
        known_bad=_known_bad_from(data.get("known_bad")),
        repository_url=text_of(data.get("repository_url")),
        reproduce_command=string(data.get("reproduce_command")),
        notes=tuple(note for note in list_of(data.get("notes")) if isinstance(note, str)),
        releases=tuple(
            StoredRelease(version, text_of(item.get("upload_time")))
            for item in mappings(data.get("releases"))
            if (version := text_of(item.get("version")))
        ),
        known_bad_range=string(data.get("known_bad_range")),
        commits=commits_from(data.get("commits"), Direction.REGRESSION),
        fix_commits=commits_from(data.get("fix_commits"), Direction.FIX),
        flaky_threshold=share(policy.get("flaky_threshold")),
        confirmation=_confirmation_from(data.get("confirmation")),
    )


def _probes(value: object) -> tuple[StoredProbe, ...]:
    probes = []
    for item in mappings(value):
        version = text_of(item.get("version"))
        if not version:
            continue
        seconds = item.get("seconds")
        probes.append(
            StoredProbe(
                version=version,
                outcome_text=str(item.get("outcome", "")),
                seconds=float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None,
                reused=item.get("reused") is True,
                detail=string(item.get("detail")) or "",
                record_key=text_of(item.get("record_key")),
                uploaded=text_of(item.get("uploaded")),
                search=enum(Direction, item.get("search")),
                verdict=enum(BisectVerdict, item.get("verdict")),
            )
        )
    return tuple(probes)


def _search_from(value: object, direction: Direction) -> StoredSearch | None:
    if not isinstance(value, Mapping):
        return None
    before_name, after_name = _SIDE_NAMES[direction]
    uploaded = mapping_of(value.get("uploaded"))
    return StoredSearch(
        direction=direction,
        status=enum(SearchStatus, value.get("status")),
        message=string(value.get("message")) or "",
        before=text_of(value.get(before_name)),
        after=text_of(value.get(after_name)),
        candidates=texts(value.get("candidates")),
        inconsistent=texts(value.get("inconsistent")),
        invalid_anchor=text_of(value.get("invalid_anchor")),
        uploaded=tuple((str(k), str(v)) for k, v in uploaded.items() if isinstance(v, str)),
        compare_url=text_of(value.get("compare_url")),
        unusable=tuple(
            StoredUnusable(version, str(item.get("outcome", "")), string(item.get("detail")) or "")
            for item in mappings(value.get("unusable"))
            if (version := text_of(item.get("version")))
        ),
        untried=texts(value.get("untried")),
    )


def _known_bad_from(value: object) -> KnownBadRange | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return range_from_json(value, "bisection report", "known_bad.", allow_empty=True)
    except ConfigError:
        # The gate reads reports/known-bad.json, not this copy; a bad copy only loses the page's note of it.
        return None


def _confirmation_from(value: object) -> StoredConfirmation | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("runs"), int):
        return None
    return StoredConfirmation(
        runs=int(value["runs"]),
        reprobes=tuple(
            StoredReprobe(
                version=version,
                side=string(item.get("side")) or "",
                expected=enum(BisectVerdict, item.get("expected")),
                verdict=enum(BisectVerdict, item.get("verdict")),
                first_text=string(item.get("first")) or "",
                again_text=string(item.get("again")) or "",
                pooled=text_of(item.get("pooled")),
            )
            for item in mappings(value.get("reprobes"))
            if (version := text_of(item.get("version")))
        ),
    )
