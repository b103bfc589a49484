"""The bisection report file (``reports/bisect/<case>--<package>.json``) as a typed value, and its JSON codec.

Versions and times stay the text the file holds: the page and ``export`` show whatever a report names (one
copied in from another machine included) and sort with ``packaging`` where they can. Reading is tolerant, as
older results and aborted runs lack keys: a missing or odd field reads as empty, and only a file that is not a
bisection report at all raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from harness.bisection.search import BisectVerdict, Direction, SearchStatus
from harness.errors import ConfigError
from harness.model.known_bad import KnownBadRange, range_from_json, range_to_json
from harness.model.outcome import Outcome

REPORT_SCHEMA = 1
E = TypeVar("E", Outcome, Direction, SearchStatus, BisectVerdict)
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
        return _enum(Outcome, self.outcome_text)


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
class StoredCommit:
    sha: str
    subject: str
    authored: str | None = None
    """The author date (ISO 8601)."""
    url: str | None = None
    """The commit on its forge (GitHub, Codeberg, GitLab), where the repository is known."""


@dataclass(frozen=True)
class StoredCommitProbe:
    sha: str
    outcome_text: str


@dataclass(frozen=True)
class StoredCommits:
    """One window of the commit phase: the first commit after the step between two releases (the first bad one
    for a regression, the fixing one for a fix), or the candidates skips left."""

    between: tuple[str, str]
    status: SearchStatus | None
    message: str
    first_bad: StoredCommit | None
    """For a regression: the first bad commit."""
    candidates: tuple[StoredCommit, ...]
    probes: tuple[StoredCommitProbe, ...]
    direction: Direction = Direction.REGRESSION
    first_fixed: StoredCommit | None = None
    """For a fix: the first fixed commit."""
    first_parent: bool | None = None
    """Only the first-parent line was bisected (merges as single steps); None in older files."""

    @property
    def first(self) -> StoredCommit | None:
        """The first commit after the step, whichever the direction."""
        return self.first_bad if self.direction is Direction.REGRESSION else self.first_fixed


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
        data["commits"] = _commits_json(stored.commits)
    if stored.fix_commits is not None:
        data["fix_commits"] = _commits_json(stored.fix_commits)
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


def _commits_json(commits: StoredCommits) -> dict[str, Any]:
    first_name = "first_bad" if commits.direction is Direction.REGRESSION else "first_fixed"
    shown = [c for c in (commits.first, *commits.candidates) if c is not None]
    return {
        "direction": commits.direction.value,
        "between": list(commits.between),
        "status": None if commits.status is None else commits.status.value,
        "message": commits.message,
        first_name: _commit_json(commits.first),
        "candidates": [_commit_json(c) for c in commits.candidates],
        "probes": [{"sha": p.sha, "outcome": p.outcome_text} for p in commits.probes],
        "first_parent": commits.first_parent,
        # Beside the commits rather than inside them, so each commit stays {sha, subject} as readers expect.
        "authored": {c.sha: c.authored for c in shown if c.authored},
        "urls": {c.sha: c.url for c in shown if c.url},
    }


def _commit_json(commit: StoredCommit | None) -> dict[str, Any] | None:
    return None if commit is None else {"sha": commit.sha, "subject": commit.subject}


# --- JSON in -----------------------------------------------------------------------------------------------------


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
    policy = _mapping(data.get("policy"))
    started = _mapping(data.get("started_from"))
    return StoredBisection(
        case_id=_text(data.get("case_id")) or "",
        package=_text(data.get("package")) or "",
        held=_texts(data.get("held")),
        finished_at=_text(data.get("finished_at")),
        different_error_is_bad=policy.get("different_error_is_bad") is True,
        started_good=_text(started.get("good")),
        started_bad=_text(started.get("bad")),
        probes=_probes(data.get("probes")),
        prior=_probes(data.get("prior")),
        regression=_search_from(data.get("regression"), Direction.REGRESSION),
        fix=_search_from(data.get("fix"), Direction.FIX),
        known_bad=_known_bad_from(data.get("known_bad")),
        repository_url=_text(data.get("repository_url")),
        reproduce_command=_string(data.get("reproduce_command")),
        notes=tuple(note for note in _list(data.get("notes")) if isinstance(note, str)),
        releases=tuple(
            StoredRelease(version, _text(item.get("upload_time")))
            for item in _mappings(data.get("releases"))
            if (version := _text(item.get("version")))
        ),
        known_bad_range=_string(data.get("known_bad_range")),
        commits=_commits_from(data.get("commits"), Direction.REGRESSION),
        fix_commits=_commits_from(data.get("fix_commits"), Direction.FIX),
        flaky_threshold=_share(policy.get("flaky_threshold")),
        confirmation=_confirmation_from(data.get("confirmation")),
    )


def _probes(value: object) -> tuple[StoredProbe, ...]:
    probes = []
    for item in _mappings(value):
        version = _text(item.get("version"))
        if not version:
            continue
        seconds = item.get("seconds")
        probes.append(
            StoredProbe(
                version=version,
                outcome_text=str(item.get("outcome", "")),
                seconds=float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None,
                reused=item.get("reused") is True,
                detail=_string(item.get("detail")) or "",
                record_key=_text(item.get("record_key")),
                uploaded=_text(item.get("uploaded")),
                search=_enum(Direction, item.get("search")),
                verdict=_enum(BisectVerdict, item.get("verdict")),
            )
        )
    return tuple(probes)


def _search_from(value: object, direction: Direction) -> StoredSearch | None:
    if not isinstance(value, Mapping):
        return None
    before_name, after_name = _SIDE_NAMES[direction]
    uploaded = _mapping(value.get("uploaded"))
    return StoredSearch(
        direction=direction,
        status=_enum(SearchStatus, value.get("status")),
        message=_string(value.get("message")) or "",
        before=_text(value.get(before_name)),
        after=_text(value.get(after_name)),
        candidates=_texts(value.get("candidates")),
        inconsistent=_texts(value.get("inconsistent")),
        invalid_anchor=_text(value.get("invalid_anchor")),
        uploaded=tuple((str(k), str(v)) for k, v in uploaded.items() if isinstance(v, str)),
        compare_url=_text(value.get("compare_url")),
        unusable=tuple(
            StoredUnusable(version, str(item.get("outcome", "")), _string(item.get("detail")) or "")
            for item in _mappings(value.get("unusable"))
            if (version := _text(item.get("version")))
        ),
        untried=_texts(value.get("untried")),
    )


def _known_bad_from(value: object) -> KnownBadRange | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return range_from_json(value, "bisection report", "known_bad.", allow_empty=True)
    except ConfigError:
        # The gate reads reports/known-bad.json, not this copy; a bad copy only loses the page's note of it.
        return None


def _commits_from(value: object, direction: Direction) -> StoredCommits | None:
    if not isinstance(value, Mapping):
        return None
    between = _texts(value.get("between"))
    first_parent = value.get("first_parent")
    authored, urls = _mapping(value.get("authored")), _mapping(value.get("urls"))

    def _commit(item: object) -> StoredCommit | None:
        found = _plain_commit(item)
        if found is None:
            return None
        return replace(found, authored=_text(authored.get(found.sha)), url=_text(urls.get(found.sha)))

    return StoredCommits(
        direction=direction,
        first_parent=first_parent if isinstance(first_parent, bool) else None,
        between=(between[0], between[1]) if len(between) == 2 else ("", ""),
        status=_enum(SearchStatus, value.get("status")),
        message=_string(value.get("message")) or "",
        first_bad=_commit(value.get("first_bad")) if direction is Direction.REGRESSION else None,
        first_fixed=_commit(value.get("first_fixed")) if direction is Direction.FIX else None,
        candidates=tuple(c for c in map(_commit, _list(value.get("candidates"))) if c is not None),
        probes=tuple(
            StoredCommitProbe(sha, str(item.get("outcome", "")))
            for item in _mappings(value.get("probes"))
            if (sha := _text(item.get("sha")))
        ),
    )


def _plain_commit(value: object) -> StoredCommit | None:
    if not isinstance(value, Mapping) or not _text(value.get("sha")):
        return None
    return StoredCommit(str(value["sha"]).strip(), _string(value.get("subject")) or "")


def _confirmation_from(value: object) -> StoredConfirmation | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("runs"), int):
        return None
    return StoredConfirmation(
        runs=int(value["runs"]),
        reprobes=tuple(
            StoredReprobe(
                version=version,
                side=_string(item.get("side")) or "",
                expected=_enum(BisectVerdict, item.get("expected")),
                verdict=_enum(BisectVerdict, item.get("verdict")),
                first_text=_string(item.get("first")) or "",
                again_text=_string(item.get("again")) or "",
                pooled=_text(item.get("pooled")),
            )
            for item in _mappings(value.get("reprobes"))
            if (version := _text(item.get("version")))
        ),
    )


def _share(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    return None


# --- small helpers -----------------------------------------------------------------------------------------------


def _enum(kind: type[E], value: object) -> E | None:
    try:
        return kind(value)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    """A version, name or time: stripped, and None when empty or not text."""
    if value is None or isinstance(value, Mapping | list | tuple | bool):
        return None
    text = str(value).strip()
    return text or None


def _string(value: object) -> str | None:
    """Free text (a message, a command), kept as written."""
    return value if isinstance(value, str) else None


def _texts(value: object) -> tuple[str, ...]:
    return tuple(text for text in map(_text, _list(value)) if text)


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: object) -> list[Mapping[str, Any]]:
    return [item for item in _list(value) if isinstance(item, Mapping)]
