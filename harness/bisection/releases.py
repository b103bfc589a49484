"""Runs the regression and fix searches over a package's releases, probing through an injected callable.

It knows nothing about environments or records: ``probe(version)`` does the work (and may answer from a
stored record, saying so with ``reused``); both searches run through the one driver loop, whose ``handler``
hears about each probe as it starts and ends.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from packaging.version import Version

from harness.bisection.confirm import CONFIRMABLE, Confirmation, confirm_boundaries
from harness.bisection.driver import SearchHandler, run_search
from harness.bisection.search import (
    BisectVerdict,
    Direction,
    SearchResult,
    SearchStatus,
    TransitionSearch,
    VerdictPolicy,
)
from harness.errors import ConfigError
from harness.model.outcome import Outcome, Repeats
from harness.model.pins import Pin
from harness.model.repair import Repair
from harness.probing.lookahead import Keyed, Lookahead


@dataclass(frozen=True)
class ReleaseProbe:
    """What probing one release of the bisected package found (the other pins held as in the report)."""

    version: Version
    outcome: Outcome
    seconds: float = 0.0
    reused: bool = False
    """The outcome came from a stored record rather than a new run."""
    detail: str = ""
    record_key: str | None = None
    repeats: Repeats | None = None
    """Runs made and how many reproduced (None: not counted, e.g. the environment could not be built)."""
    repairs: tuple[Repair, ...] = ()
    """Distributions the probe added because the release needs them without declaring them."""


@dataclass(frozen=True)
class ProbeStep:
    """One probe made during the run, with the search that asked for it and what it counted as."""

    search: Direction
    probe: ReleaseProbe
    verdict: BisectVerdict


@dataclass(frozen=True)
class BisectionReport:
    case_id: str
    package: str
    held: tuple[str, ...]
    """The pins held fixed while the package varied, as ``name==version`` strings."""
    releases: tuple[Version, ...]
    good: Version | None
    """The release the regression search started from as good, if one was given."""
    bad: Version | None
    """The release both searches started from as bad (given, or from the recorded environment)."""
    policy: VerdictPolicy
    steps: tuple[ProbeStep, ...]
    """Every probe of this run, in the order it was made."""
    prior: tuple[ReleaseProbe, ...]
    """Outcomes supplied up front, oldest release first; the searches never probe these again."""
    regression: SearchResult[Version]
    fix: SearchResult[Version] | None
    """None when there was no bad release to search forwards from."""
    known_bad: str | None
    """The releases confirmed to reproduce, as a specifier (``>=1.42.21,<1.43.2``); None when nothing
    reproduced. Files written before confirmed-only ranges may hold ``""`` (every release)."""
    notes: tuple[str, ...]
    finished_at: datetime
    upload_dates: Mapping[Version, datetime] = field(default_factory=lambda: types.MappingProxyType({}))
    confirmation: Confirmation | None = None
    """The boundaries probed again after the searches (``regression``/``fix`` are the results after it)."""
    uncertain: tuple[str, ...] = ()
    """Specifiers of releases next to ``known_bad`` that may reproduce but could not be tested."""
    bad_recorded: bool = False
    """``bad`` came from the case's recorded environment, not from ``--bad``."""

    def outcome_of(self, version: Version) -> ReleaseProbe | None:
        """The outcome this report relied on for ``version`` (this run's probe, else the one supplied)."""
        for step in self.steps:
            if step.probe.version == version:
                return step.probe
        return next((prior for prior in self.prior if prior.version == version), None)


def _utcnow() -> datetime:
    return datetime.now(UTC)


_DEFAULT_POLICY = VerdictPolicy()


def run_bisection(
    *,
    case_id: str,
    package: str,
    releases: Sequence[Version],
    probe: Callable[[Version], ReleaseProbe],
    good: Version | None = None,
    bad: Version | None = None,
    recorded_bad: Version | None = None,
    known: Mapping[Version, ReleaseProbe] | None = None,
    upload_dates: Mapping[Version, datetime] | None = None,
    held: Iterable[Pin | str] = (),
    policy: VerdictPolicy = _DEFAULT_POLICY,
    handler: SearchHandler[Version] | None = None,
    clock: Callable[[], datetime] = _utcnow,
    confirm: Callable[[Version], ReleaseProbe] | None = None,
    confirm_runs: int = 0,
    jobs: int = 1,
) -> BisectionReport:
    """Find where ``package`` started reproducing the case (regression) and where it stopped (fix).

    ``releases`` are the candidate releases, oldest first. The regression search bisects between ``good`` and
    the bad release (``bad``, else ``recorded_bad``), or strides backwards from the bad release when no good
    one is given; the fix search strides forwards from the bad release, newest release first. With ``confirm``
    (a probe making ``confirm_runs`` runs), the releases either side of each step are probed again and a step
    they contradict is widened (``bisection.confirm``). Raises
    ConfigError for a release that is not in the list or a good release that is not older than the bad one.
    """
    ordered = tuple(releases)
    anchor_bad = bad if bad is not None else recorded_bad
    _check_anchors(ordered, package, good, anchor_bad, given_bad=bad is not None)

    supplied = {version: outcome for version, outcome in (known or {}).items() if version in ordered}
    outcomes: dict[Version, ReleaseProbe] = dict(supplied)
    steps: list[ProbeStep] = []

    def checked_probe(version: Version) -> ReleaseProbe:
        result = probe(version)
        if result.version != version:
            raise ValueError(f"probe({version}) answered for {result.version}")
        return result

    def verdicts() -> dict[Version, BisectVerdict]:
        return {version: policy.verdict(result.outcome, result.repeats) for version, result in outcomes.items()}

    def fix_search(low: Version) -> TransitionSearch[Version]:
        return TransitionSearch.start(ordered, Direction.FIX, low=low, known=verdicts(), newest_first=True)

    def probe_for(key: tuple[Version, bool]) -> ReleaseProbe:
        version, confirming = key
        if confirming:
            assert confirm is not None  # only queued with it
            return confirm(version)
        return checked_probe(version)

    def sides(result: SearchResult[Version] | None) -> list[tuple[Version, bool]]:
        if confirm is None or result is None or result.status not in CONFIRMABLE:
            return []
        return [(version, True) for version in (result.before, result.after) if version is not None]

    # One lookahead for the searches and the confirmation, so that at most ``jobs`` probes run at once: a step's
    # re-probes are queued as soon as its search ends, and run while the next search waits for something.
    with Lookahead(probe_for, jobs) as shared:
        ahead = Keyed(shared, lambda version: (version, False))

        def search(
            start: TransitionSearch[Version],
            following: Callable[[TransitionSearch[Version]], TransitionSearch[Version]] | None = None,
        ) -> SearchResult[Version]:
            run = run_search(
                start, checked_probe, policy=policy, handler=handler, jobs=jobs, ahead=ahead, following=following
            )
            for probed in run.probes:
                outcomes[probed.event.item] = probed.answer
                steps.append(ProbeStep(probed.event.direction, probed.answer, probed.verdict))
            return run.result

        # With the bad release known up front, the fix search starts from it whatever the regression search
        # finds (unless that release does not reproduce): its first strides are guessed while the regression
        # search runs, so the fork workers its newer releases need start early.
        fix_ahead = None
        if anchor_bad is not None:
            fix_template = fix_search(anchor_bad)
            fix_ahead = functools.partial(_continued, fix_template)
        regression_start = TransitionSearch.start(
            ordered, Direction.REGRESSION, low=good, high=anchor_bad, known=verdicts()
        )
        regression = search(regression_start, fix_ahead)
        shared.queue(sides(regression))
        fix_from = anchor_bad
        if regression.status is SearchStatus.INVALID_ANCHOR:
            fix_from = None
        elif fix_from is None and regression.status in (SearchStatus.FOUND, SearchStatus.AMBIGUOUS):
            fix_from = regression.after
        fix = None if fix_from is None else search(fix_search(fix_from))

        confirmation = None
        if confirm is not None:
            # The releases either side of each step are known now: their re-probes run side by side, ``jobs`` at
            # a time, while the confirmation takes the answers in its own order.
            shared.queue(sides(fix))
            confirmation = confirm_boundaries(
                ordered,
                regression,
                fix,
                outcomes,
                lambda version: shared.answer((version, True)),
                runs=confirm_runs,
                policy=policy,
                handler=handler,
            )
            regression, fix = confirmation.regression, confirmation.fix

    dates = types.MappingProxyType(dict(upload_dates or {}))
    return BisectionReport(
        case_id=case_id,
        package=package,
        held=tuple(str(pin) for pin in held),
        releases=ordered,
        good=good,
        bad=anchor_bad,
        policy=policy,
        steps=tuple(steps),
        prior=tuple(supplied[version] for version in sorted(supplied)),
        regression=regression,
        fix=fix,
        known_bad=known_bad_specifier(regression, fix),
        uncertain=uncertain_ranges(regression, fix),
        bad_recorded=bad is None and recorded_bad is not None,
        notes=tuple(
            _notes(
                package=package,
                policy=policy,
                steps=steps,
                outcomes=outcomes,
                regression=regression,
                fix=fix,
                dates=dates,
            )
        )
        + (confirmation.notes if confirmation is not None else ()),
        finished_at=clock(),
        upload_dates=dates,
        confirmation=confirmation,
    )


def _check_anchors(
    ordered: tuple[Version, ...], package: str, good: Version | None, anchor_bad: Version | None, *, given_bad: bool
) -> None:
    """Raise ConfigError for anchors a bisection cannot start from (ValueError for a list out of order)."""
    if any(a >= b for a, b in itertools.pairwise(ordered)):
        raise ValueError("releases must be ordered oldest first, without repeats")
    if not ordered:
        raise ConfigError(f"{package}: no releases to bisect; check the package name and the package index")
    bad_label = "bad release" if given_bad else "recorded bad release (case.toml [recorded_environment])"
    for version, label in ((good, "good release"), (anchor_bad, bad_label)):
        if version is not None and version not in ordered:
            raise ConfigError(f"{package} {version} ({label}) is not a release; {_neighbours(ordered, version)}")
    if good is None and anchor_bad is None:
        raise ConfigError(
            f"{package}: nothing to start from; name a release that reproduces the case (bad) or record it in "
            "case.toml [recorded_environment]"
        )
    if good is not None and anchor_bad is not None and good >= anchor_bad:
        raise ConfigError(
            f"{package}: good release {good} is not older than {bad_label} {anchor_bad}; give a good release older "
            "than the bad one"
        )


def _continued(template: TransitionSearch[Version], state: TransitionSearch[Version]) -> TransitionSearch[Version]:
    """``template`` (a search over the same items) knowing every verdict ``state`` knows."""
    return dataclasses.replace(template, verdicts=state.verdicts)


def known_bad_bounds(
    regression: SearchResult[Version], fix: SearchResult[Version] | None
) -> tuple[Version | None, Version | None] | None:
    """(first confirmed bad, end of the confirmed range) of the releases known to reproduce, the end None when
    open; None when nothing reproduced.

    Only what a probe confirmed is blocked: an ambiguous start counts from the first release seen bad, an
    ambiguous fix (or one whose newer releases could not be tested) stops before the first release that could
    not be tested, and when every release tried was bad the range starts at the oldest of them (not at "every
    release"). What lies in between is uncertain
    (``uncertain_ranges``), which the gate reports as undecided."""
    if regression.status is SearchStatus.INVALID_ANCHOR or regression.after is None:
        return None
    upper: Version | None = None
    if fix is not None and fix.status is SearchStatus.FOUND:
        upper = fix.after
    elif fix is not None and fix.status in _HIDDEN and fix.candidates:
        upper = fix.candidates[0]
    elif fix is not None and fix.status is SearchStatus.NOT_FOUND and (fix.unusable or fix.untried):
        # Newer releases could not be tested: bad as of the last one seen, unknown from the next one on.
        upper = min((*fix.unusable, *fix.untried))
    return regression.after, upper


_HIDDEN = (SearchStatus.AMBIGUOUS, SearchStatus.UNCONFIRMED)
"""A step that lies at one of several candidates: unusable releases hide it, or re-probes contradicted it."""


def uncertain_ranges(regression: SearchResult[Version], fix: SearchResult[Version] | None) -> tuple[str, ...]:
    """Specifiers of the releases next to the known-bad range that may reproduce but could not be tested."""
    if known_bad_bounds(regression, fix) is None:
        return ()
    ranges: list[str] = []
    untested = (*regression.unusable, *regression.untried)
    if regression.status in _HIDDEN and regression.candidates and regression.after is not None:
        if regression.candidates[0] < regression.after:
            ranges.append(f">={regression.candidates[0]},<{regression.after}")
    elif regression.status is SearchStatus.NOT_FOUND and untested:
        ranges.append(f">={min(untested)},<{regression.after}")
    if fix is not None and fix.status in _HIDDEN and fix.candidates:
        ranges.append(f">={fix.candidates[0]}" + (f",<{fix.after}" if fix.after is not None else ""))
    elif fix is not None and fix.status is SearchStatus.NOT_FOUND and (fix.unusable or fix.untried):
        ranges.append(f">={min((*fix.unusable, *fix.untried))}")
    return tuple(ranges)


def known_bad_specifier(regression: SearchResult[Version], fix: SearchResult[Version] | None) -> str | None:
    """``known_bad_bounds`` as a specifier (``>=1.42.21,<1.43.2``); None when nothing reproduced."""
    bounds = known_bad_bounds(regression, fix)
    if bounds is None:
        return None
    lower, upper = bounds
    return f">={lower}" + (f",<{upper}" if upper is not None else "")


def _neighbours(releases: tuple[Version, ...], version: Version) -> str:
    below = [release for release in releases if release < version]
    above = [release for release in releases if release > version]
    nearest = [str(release) for release in (below[-1:] + above[:1])]
    return f"the nearest releases are {' and '.join(nearest)}" if nearest else "no releases are known"


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""


def _notes(
    *,
    package: str,
    policy: VerdictPolicy,
    steps: Sequence[ProbeStep],
    outcomes: Mapping[Version, ReleaseProbe],
    regression: SearchResult[Version],
    fix: SearchResult[Version] | None,
    dates: Mapping[Version, datetime],
) -> list[str]:
    notes: list[str] = []
    if policy.different_error_is_bad:
        notes.append("DIFFERENT_ERROR counted as reproducing (policy)")
    if any(step.probe.outcome is Outcome.FLAKY for step in steps):
        notes.append(
            "FLAKY releases counted as bad: a failure seen in any run marks the release (policy)"
            if policy.flaky_threshold is None
            else f"FLAKY releases counted as bad only when at least {policy.flaky_threshold:.0%} of their runs "
            "reproduced, and skipped below that (--flaky-threshold)"
        )
    for step in steps:
        if step.verdict is BisectVerdict.SKIP:
            detail = _first_line(step.probe.detail)
            notes.append(
                f"{package} {step.probe.version} could not be used ({step.probe.outcome.value})"
                + (f": {detail}" if detail else "")
            )
    for result in (regression, fix):
        if result is None:
            continue
        if result.status is SearchStatus.INVALID_ANCHOR:
            notes.append(f"{result.direction.value} search stopped: {result.message}{_detail_of(result, outcomes)}")
        if result.untried:
            notes.append(
                f"{len(result.untried)} {package} releases between unusable ones were not tried "
                f"({result.untried[0]} .. {result.untried[-1]}): presumed unusable like those around them"
            )
        for version in result.inconsistent:
            found = outcomes[version].outcome.value if version in outcomes else "?"
            notes.append(
                f"{package} {version} gave {found}, against the single step found by the {result.direction.value} "
                "search: the history is not monotone"
            )
        if result.status is SearchStatus.FOUND and result.before in dates and result.after in dates:
            assert result.before is not None and result.after is not None
            if dates[result.after] < dates[result.before]:
                notes.append(
                    f"{package} {result.after} was uploaded before {result.before}: releases are ordered by version, "
                    "not upload date"
                )
    return notes


def verdict_text(report: BisectionReport, result: SearchResult[Version]) -> str:
    """One search's verdict in words for people: the anchor named as the user gave it, the reason releases
    could not be tested, and a long list of candidates elided to its ends."""
    if result.status is SearchStatus.INVALID_ANCHOR:
        message = result.message
        if report.bad_recorded and result.anchor == report.bad:
            message = message.replace("was given as bad", "was recorded as bad (case.toml [recorded_environment])")
        return message + _detail_of(result, _outcomes(report))
    if result.status is SearchStatus.AMBIGUOUS:
        words = "first bad" if result.direction is Direction.REGRESSION else "first fixed"
        shown = (
            ", ".join(map(str, result.candidates))
            if len(result.candidates) <= _LISTED
            else (f"{result.candidates[0]} .. {result.candidates[-1]}")
        )
        text = f"{words} is one of {len(result.candidates)} releases ({shown})"
        text += f"; {len(result.unusable)} could not be tested{unusable_reason(report, result)}"
        if result.untried:
            text += f", {len(result.untried)} between them not tried"
        return text
    if result.status is SearchStatus.NOT_FOUND and result.unusable:
        return result.message + unusable_reason(report, result)
    return result.message


_LISTED = 5
"""Candidate lists up to this long are spelled out; longer ones are shown by their ends."""


def unusable_reason(report: BisectionReport, result: SearchResult[Version]) -> str:
    """``: <the commonest reason the unusable releases gave>``, or "" when none was recorded."""
    outcomes = _outcomes(report)
    reasons = [
        f"{found.outcome.value}: {line}" if (line := _first_line(found.detail)) else found.outcome.value
        for version in result.unusable
        if (found := outcomes.get(version)) is not None
    ]
    if not reasons:
        return ""
    commonest = max(dict.fromkeys(reasons), key=reasons.count)
    others = len(reasons) - reasons.count(commonest)
    return f": {commonest}" + (f" ({others} for other reasons)" if others else "")


def _outcomes(report: BisectionReport) -> dict[Version, ReleaseProbe]:
    return {
        **{probe.version: probe for probe in report.prior},
        **{step.probe.version: step.probe for step in report.steps},
    }


def _detail_of(result: SearchResult[Version], outcomes: Mapping[Version, ReleaseProbe]) -> str:
    """The probe behind an invalid anchor, in its own words."""
    if result.anchor is None or result.anchor not in outcomes:
        return ""
    found = outcomes[result.anchor]
    detail = _first_line(found.detail)
    return f" ({found.outcome.value}{': ' + detail if detail else ''})"
