"""Which stored locks (and resolution failures) a fresh run may reuse: a resolution bounded by a past instant
comes out the same later."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.environments.interface import BuildFailure, EnvironmentRequest, InstallStage, SourceCheckout
from harness.environments.uv import failure_fixed_in_time, fixed_in_time
from harness.environments.uv_messages import absent_packages
from harness.model.outcome import Classification, Outcome
from harness.model.pins import Pin
from harness.sources import PackageSources

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def request(
    exclude_newer: str | None, source: SourceCheckout | None = None, current: tuple[str, ...] = ()
) -> EnvironmentRequest:
    pins = (Pin.of("fakepkg", "1.3"),)
    return EnvironmentRequest(
        pins, "3.11", PackageSources(), exclude_newer=exclude_newer, source_tree=source, current_packages=current
    )


@pytest.mark.parametrize(
    ("exclude_newer", "fixed"),
    [
        ("2024-11-20T10:00:00Z", True),  # a release's upload plus an hour, as bisection writes it
        ("2026-12-03T11:59:59+00:00", True),
        ("2026-12-03T12:00:01Z", False),  # later uploads may still land before it
        ("2026-12-03", True),  # a date alone is its midnight, UTC
        (None, False),  # resolved as of today: a fresh run asks for today's answer
        ("last tuesday", False),  # not an instant: resolved again rather than guessed at
    ],
)
def test_only_a_past_bound_fixes_a_resolution(exclude_newer: str | None, fixed: bool) -> None:
    assert fixed_in_time(request(exclude_newer), NOW) is fixed


def test_a_source_tree_is_resolved_again_whatever_the_bound(tmp_path: Path) -> None:
    checkout = SourceCheckout("fakepkg", tmp_path, "0" * 40)
    assert not fixed_in_time(request("2024-11-20T10:00:00Z", checkout), NOW)


CONFLICT = (
    "Because fakepkg==1.3 depends on fakeutil>=2 and only fakeutil<=1.0 is available, we can conclude that "
    "the probe pins fakepkg==1.3 and your requirements are unsatisfiable."
)
NO_SUCH_PIN = "Because there is no version of fakepkg==1.3 and the probe pins fakepkg==1.3, we can conclude ..."
PAST = "2024-11-20T10:00:00Z"


@pytest.mark.parametrize(
    ("outcome", "message", "exclude_newer", "current", "kept"),
    [
        (Outcome.UNRESOLVABLE, CONFLICT, PAST, (), True),  # fakeutil 2.0, uploaded since, is out of reach
        (Outcome.UNRESOLVABLE, CONFLICT, None, (), False),  # as of today: a fakeutil 2.0 may come any day
        (Outcome.UNRESOLVABLE, CONFLICT, PAST, ("fakeutil",), False),  # fakeutil is taken as of today
        (Outcome.UNRESOLVABLE, NO_SUCH_PIN, PAST, (), False),  # a pin is exempt from the bound: it may appear
        (Outcome.UNAVAILABLE, CONFLICT, PAST, (), False),  # an accident is never kept
        (Outcome.INSTALL_FAILED, CONFLICT, PAST, (), False),  # not the resolver's proof
    ],
)
def test_a_resolution_failure_is_kept_only_where_a_lock_would_be_and_no_exempt_release_is_missing(
    outcome: Outcome, message: str, exclude_newer: str | None, current: tuple[str, ...], kept: bool
) -> None:
    failure = BuildFailure(InstallStage.RESOLVE, Classification(outcome, message), message, 0.4, 0.0)
    assert failure_fixed_in_time(request(exclude_newer, current=current), failure) is kept


@pytest.mark.parametrize(
    ("message", "absent"),
    [
        (CONFLICT, {"fakeutil"}),
        (NO_SUCH_PIN, {"fakepkg"}),
        ("Because Fake_Dep was not found in the package registry and ...", {"fake-dep"}),
        ("Because fakepkg==1.3 depends on fakedep<2 and the probe pins fakedep==2.0, ...", set()),
    ],
)
def test_absent_packages_are_read_from_uvs_explanation(message: str, absent: set[str]) -> None:
    assert absent_packages(message) == absent
