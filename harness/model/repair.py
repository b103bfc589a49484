"""Whether a probe failed for want of an undeclared dependency, and what to add: the pure half of repair.

A probe qualifies when its replay raised ``ModuleNotFoundError`` for a top-level module (``packaging``) that
no installed distribution provides, judged from the environment's installed files as the bootstrap reported
them. Not an undeclared dependency, so never repaired:
- ``cannot import name X from Y`` (an ``ImportError``): a name missing from an installed module is the
  release's own API, often the very change being bisected;
- ``No module named 'pkg.sub'``: a submodule missing from an installed package is the same;
- a module some installed distribution provides (the import failed for another reason), or a standard
  library module (the interpreter was built without it);
- a REPRODUCED probe: the recorded failure may itself be the missing module;
- a module already added once (adding it did not help), or more than ``MAX_REPAIRS`` additions.

The distribution to add is looked for on the index (the I/O half, in harness.probing): the name in
``IMPORT_NAMES`` for the known mismatches, then the module's own name.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from harness.model.import_names import IMPORT_NAMES
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.signature import MissingModule

MAX_REPAIRS = 5
MODULE_NOT_FOUND = "builtins.ModuleNotFoundError"


@dataclass(frozen=True)
class Repair:
    """One distribution added, unpinned and time-travelled like the rest, so that a probe could run."""

    added: str
    """The distribution's name as the index lists it."""
    module: str
    """The top-level module that was missing."""
    imported_by: str | None
    """The site-packages file that imported it (``x_transformers/attend.py``); None for the replay itself."""
    reason: str
    """Why it was missing, e.g. ``not declared by x-transformers 1.30.0``."""

    def describe(self) -> str:
        """``added packaging: imported by x_transformers/attend.py, not declared by x-transformers 1.30.0``."""
        where = f"imported by {self.imported_by}" if self.imported_by else "imported by the replay"
        return f"added {self.added}: {where}, {self.reason}"


@dataclass(frozen=True)
class RepairNeed:
    """A probe that qualifies, and the distribution names to ask the index about, in order."""

    module: str
    candidates: tuple[str, ...]
    imported_by: str | None
    importer_distribution: str | None


def repair_need(
    outcome: Outcome, error_type: str | None, missing: MissingModule | None, done: tuple[Repair, ...] = ()
) -> RepairNeed | None:
    """The need for a repair, or None when the probe does not qualify (see the module docstring)."""
    if outcome is Outcome.REPRODUCED or error_type != MODULE_NOT_FOUND or missing is None:
        return None
    module = missing.name
    if not module or "." in module or missing.providers or module in sys.stdlib_module_names:
        return None
    if len(done) >= MAX_REPAIRS or module in {repair.module for repair in done}:
        return None
    return RepairNeed(module, distribution_candidates(module), missing.imported_by, missing.importer_distribution)


def distribution_candidates(module: str) -> tuple[str, ...]:
    """The known distribution for ``module`` if it is a known mismatch, then the module's own name."""
    names = [IMPORT_NAMES[module]] if module in IMPORT_NAMES else []
    names.append(module)
    seen: set[str] = set()
    unique = []
    for name in names:
        if canonicalize_name(name) not in seen:
            seen.add(canonicalize_name(name))
            unique.append(name)
    return tuple(unique)


def repair_for(need: RepairNeed, distribution: str, resolved: tuple[Pin, ...]) -> Repair:
    """The repair that adds ``distribution``; its reason names the importer's version from ``resolved``."""
    if need.imported_by is None:
        reason = "not in the case's requirements"
    elif need.importer_distribution is None:
        reason = "not declared by the distribution that imports it"
    else:
        wanted = canonicalize_name(need.importer_distribution)
        version = next((str(pin.version) for pin in resolved if pin.name == wanted), None)
        reason = f"not declared by {wanted}" + (f" {version}" if version else "")
    return Repair(added=distribution, module=need.module, imported_by=need.imported_by, reason=reason)
