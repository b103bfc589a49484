"""What a bisection was asked to do: the package, the ends given, what is held, and how verdicts count."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import NormalizedName
from packaging.version import Version

from harness.bisection.search import VerdictPolicy
from harness.model.case import Case
from harness.model.pins import Pin, pin_set


@dataclass(frozen=True)
class BisectOptions:
    package: NormalizedName
    good: Version | None = None
    bad: Version | None = None
    held_overrides: tuple[Pin, ...] = ()
    time_travel: bool = True
    different_error_is_bad: bool = False
    include_prereleases: bool = False
    include_yanked: bool = False
    flaky_threshold: float | None = None
    confirm: bool = True
    """Probe the releases either side of each step again before reporting it (``--no-confirm`` turns it off)."""
    all_commits: bool = False
    """Bisect every commit between two releases, not only the first-parent line (merges as single steps)."""
    jobs: int = 1
    """Probes at once: the releases the search would ask for next run ahead (``bisection.driver``)."""

    @property
    def policy(self) -> VerdictPolicy:
        return VerdictPolicy(different_error_is_bad=self.different_error_is_bad, flaky_threshold=self.flaky_threshold)


def held_pins(case: Case, options: BisectOptions) -> tuple[Pin, ...]:
    """The other packages stay at the case's recorded versions unless the user names others."""
    chosen = {pin.name: pin for pin in case.recorded.pins if pin.name != options.package}
    chosen |= {pin.name: pin for pin in options.held_overrides}
    return pin_set(chosen.values())
