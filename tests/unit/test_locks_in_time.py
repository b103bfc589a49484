"""Which stored locks a fresh run may reuse: a resolution bounded by a past instant comes out the same later."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.environments.interface import EnvironmentRequest, SourceCheckout
from harness.environments.uv import fixed_in_time
from harness.model.pins import Pin
from harness.sources import PackageSources

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def request(exclude_newer: str | None, source: SourceCheckout | None = None) -> EnvironmentRequest:
    pins = (Pin.of("fakepkg", "1.3"),)
    return EnvironmentRequest(pins, "3.11", PackageSources(), exclude_newer=exclude_newer, source_tree=source)


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
