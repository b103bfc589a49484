"""Repairing undeclared dependencies: which failures qualify, what is added, and how the prober records it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from harness.environments.interface import BuildFailure, Environment, EnvironmentProvider, EnvironmentRequest
from harness.index.interface import IndexUnreachableError, PackageIndex, Release, UnknownPackageError
from harness.model.case import Case, Parameters, RecordedEnvironment
from harness.model.outcome import Outcome, RunObservation
from harness.model.pins import Pin, pin_set
from harness.model.probe_record import ProbeRecord, ProbeRequest, record_from_json, record_to_json
from harness.model.repair import (
    MAX_REPAIRS,
    MODULE_NOT_FOUND,
    Repair,
    RepairNeed,
    distribution_candidates,
    repair_for,
    repair_need,
)
from harness.model.signature import MissingModule, RaisedError, Signature
from harness.probing.finder import IndexDistributionFinder
from harness.probing.prober import Prober
from harness.probing.record_store import RecordStore
from harness.runners.interface import CaseRunner, RunResult
from harness.sources import PackageSources

PACKAGING = MissingModule("packaging", (), "x_transformers/attend.py", "x-transformers")
ADDED = Repair("packaging", "packaging", "x_transformers/attend.py", "not declared by x-transformers 1.30.0")


@pytest.mark.parametrize(
    ("outcome", "error_type", "missing", "done", "qualifies"),
    [
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, PACKAGING, (), True),
        (Outcome.SETUP_FAILED, MODULE_NOT_FOUND, PACKAGING, (), True),  # set-up that cannot import qualifies too
        # The recorded failure may itself be the missing module.
        (Outcome.REPRODUCED, MODULE_NOT_FOUND, PACKAGING, (), False),
        # "cannot import name X from Y": a name missing from an installed module is the release's own API.
        (Outcome.DIFFERENT_ERROR, "builtins.ImportError", None, (), False),
        (Outcome.DIFFERENT_ERROR, "builtins.ImportError", PACKAGING, (), False),
        # A submodule missing from an installed package is the same.
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("einops.layers.x", ("einops",)), (), False),
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("einops.layers.x"), (), False),
        # Some installed distribution provides it: the import failed for another reason.
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("yaml", ("PyYAML",)), (), False),
        # A standard-library module the interpreter was built without is nothing the index has.
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("_lzma"), (), False),
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("tkinter"), (), False),
        # Already added once, and still missing: adding it again cannot help.
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, PACKAGING, (ADDED,), False),
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("yaml"), (ADDED,), True),
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule("yaml"), (ADDED,) * MAX_REPAIRS, False),
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, None, (), False),  # a record from before repair existed
        (Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, MissingModule(""), (), False),
        (Outcome.PASSED, None, None, (), False),
    ],
)
def test_which_failures_are_undeclared_dependencies(
    outcome: Outcome, error_type: str | None, missing: MissingModule | None, done: tuple[Repair, ...], qualifies: bool
) -> None:
    assert (repair_need(outcome, error_type, missing, done) is not None) is qualifies


@pytest.mark.parametrize(
    ("module", "candidates"),
    [
        ("packaging", ("packaging",)),
        ("yaml", ("PyYAML", "yaml")),
        ("PIL", ("pillow", "PIL")),
        ("cv2", ("opencv-python", "cv2")),
        ("sklearn", ("scikit-learn", "sklearn")),
        ("bs4", ("beautifulsoup4", "bs4")),
        ("attr", ("attrs", "attr")),
    ],
)
def test_distribution_candidates(module: str, candidates: tuple[str, ...]) -> None:
    assert distribution_candidates(module) == candidates


def test_the_repair_names_the_importer_and_its_version() -> None:
    need = repair_need(Outcome.DIFFERENT_ERROR, MODULE_NOT_FOUND, PACKAGING)
    assert need == RepairNeed("packaging", ("packaging",), "x_transformers/attend.py", "x-transformers")
    repair = repair_for(need, "packaging", (Pin.of("x_transformers", "1.30.0"), Pin.of("torch", "2.13.0")))
    assert repair == ADDED
    assert repair.describe() == (
        "added packaging: imported by x_transformers/attend.py, not declared by x-transformers 1.30.0"
    )
    by_replay = repair_for(RepairNeed("yaml", ("PyYAML", "yaml"), None, None), "PyYAML", ())
    assert by_replay.describe() == "added PyYAML: imported by the replay, not in the case's requirements"
    unowned = repair_for(RepairNeed("yaml", ("yaml",), "loose.py", None), "yaml", ())
    assert unowned.reason == "not declared by the distribution that imports it"


def test_repairs_and_the_missing_module_round_trip_and_old_records_read_without_them() -> None:
    request = ProbeRequest("c", "h", (), (Pin.of("x-transformers", "1.30.0"),), "3.11")
    record = replace_record(request, repairs=(ADDED,), missing_module=PACKAGING)
    data = record_to_json(record)
    assert data["repairs"] == [
        {
            "added": "packaging",
            "module": "packaging",
            "imported_by": "x_transformers/attend.py",
            "reason": "not declared by x-transformers 1.30.0",
        }
    ]
    assert record_from_json(data) == record
    del data["repairs"], data["error"]["missing_module"]
    old = record_from_json(data)
    assert old.repairs == () and old.missing_module is None


def test_repair_keeps_the_keys_records_were_stored_under_and_no_repair_is_another_request() -> None:
    on = ProbeRequest("c", "h", (), (), "3.11")
    off = ProbeRequest("c", "h", (), (), "3.11", repair=False)
    assert on.key != off.key
    assert record_from_json(record_to_json(replace_record(off))).request == off


def replace_record(request: ProbeRequest, **changes: Any) -> ProbeRecord:
    base = ProbeRecord(request, Outcome.DIFFERENT_ERROR, "ModuleNotFoundError", error_type=MODULE_NOT_FOUND)
    return dataclasses.replace(base, **changes)


# --- the prober's repair loop ------------------------------------------------------------------------------------

CASE = Case(
    id="c",
    title="c",
    directory=Path("/cases/c"),
    packages=("fakepkg",),  # type: ignore[arg-type]
    parameters=(),
    signature=Signature("ValueError"),
    recorded=RecordedEnvironment("3.11", (Pin.of("fakepkg", "1.2"),)),
    timeout_seconds=10,
    content_hash="h",
    extra_requirements=("einops",),
)


class Provider(EnvironmentProvider):
    def __init__(self) -> None:
        self.asked: list[EnvironmentRequest] = []

    def prepare(self, request: EnvironmentRequest, *, fresh: bool = False) -> Environment | BuildFailure:
        self.asked.append(request)
        resolved = pin_set((*request.pins, *(Pin.of(name, "1.0") for name in request.extra_requirements)))
        return Environment("e", Path("/env"), Path("/env/bin/python"), resolved, 0.0, 0.0, False, False)

    def lock(self, request: EnvironmentRequest, *, fresh: bool = False) -> list[tuple[str, str, str]] | BuildFailure:
        raise AssertionError("not locked")


class Runner(CaseRunner):
    """fakepkg imports fakedep's module ``fakedep``, then PyYAML's ``yaml``; past those the bug raises ValueError."""

    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        installed = {pin.name for pin in environment.resolved}
        for module, distribution in (("fakedep", "fakedep"), ("yaml", "pyyaml")):
            if distribution not in installed:
                missing = MissingModule(module, (), f"fakepkg/{module}_user.py", "fakepkg")
                error = RaisedError(MODULE_NOT_FOUND, f"No module named {module!r}", missing_module=missing)
                return RunResult(RunObservation(1, False, True, error), 0.0)
        return RunResult(RunObservation(1, False, True, RaisedError("builtins.ValueError", "bug")), 0.0)


class Finder:
    def __init__(self, projects: set[str]) -> None:
        self.projects = projects
        self.asked: list[tuple[str, ...]] = []

    def __call__(self, candidates: Sequence[str]) -> str | None:
        self.asked.append(tuple(candidates))
        return next((name for name in candidates if name in self.projects), None)


def prober(tmp_path: Path, finder: Finder | None) -> tuple[Prober, Provider]:
    provider = Provider()
    return Prober(
        provider, Runner(), RecordStore(tmp_path), python="3.11", sources=PackageSources(), find_distribution=finder
    ), provider


def test_the_prober_adds_each_missing_distribution_and_records_why(tmp_path: Path) -> None:
    finder = Finder({"fakedep", "PyYAML"})
    probing, provider = prober(tmp_path, finder)
    request = probing.request_for(CASE, (Pin.of("fakepkg", "1.2"),), exclude_newer="2024-01-01T00:00:00Z")
    result = probing.probe(CASE, request)
    assert result.record.outcome is Outcome.REPRODUCED and not result.reused
    assert [r.added for r in result.record.repairs] == ["fakedep", "PyYAML"]
    assert result.record.repairs[0].describe() == (
        "added fakedep: imported by fakepkg/fakedep_user.py, not declared by fakepkg 1.2"
    )
    # Unpinned, on top of the case's own requirements, and time-travelled: the same request each time.
    assert [asked.extra_requirements for asked in provider.asked] == [
        ("einops",),
        ("einops", "fakedep"),
        ("einops", "fakedep", "PyYAML"),
    ]
    assert {asked.exclude_newer for asked in provider.asked} == {"2024-01-01T00:00:00Z"}
    assert finder.asked == [("fakedep",), ("PyYAML", "yaml")]
    # The stored record is the repaired one, under the request's own key, and is reused as it is.
    again = probing.probe(CASE, request)
    assert again.reused and again.record == result.record and len(provider.asked) == 3


def test_no_repair_probes_once_and_keeps_the_failure(tmp_path: Path) -> None:
    probing, provider = prober(tmp_path, None)
    request = probing.request_for(CASE, (Pin.of("fakepkg", "1.2"),))
    assert not request.repair
    result = probing.probe(CASE, request)
    assert result.record.outcome is Outcome.DIFFERENT_ERROR and result.record.repairs == ()
    assert len(provider.asked) == 1


def test_a_module_nothing_on_the_index_provides_stays_unrepaired(tmp_path: Path) -> None:
    finder = Finder({"fakedep"})
    probing, provider = prober(tmp_path, finder)
    request = probing.request_for(CASE, (Pin.of("fakepkg", "1.2"),))
    result = probing.probe(CASE, request)
    assert result.record.outcome is Outcome.DIFFERENT_ERROR
    assert result.record.error_message == "No module named 'yaml'"
    assert [r.added for r in result.record.repairs] == ["fakedep"]
    # Reused as it is: asking the index again finds nothing new, so nothing is rebuilt or rewritten.
    again = probing.probe(CASE, request)
    assert again.reused and len(provider.asked) == 2


def test_a_stored_record_made_without_repair_is_repaired_when_reused(tmp_path: Path) -> None:
    without, _ = prober(tmp_path, None)
    stale = without.probe(CASE, without.request_for(CASE, (Pin.of("fakepkg", "1.2"),))).record
    store = RecordStore(tmp_path)
    store.put(dataclasses.replace(stale, request=dataclasses.replace(stale.request, repair=True)))
    probing, provider = prober(tmp_path, Finder({"fakedep", "PyYAML"}))
    result = probing.probe(CASE, probing.request_for(CASE, (Pin.of("fakepkg", "1.2"),)))
    assert not result.reused and result.record.outcome is Outcome.REPRODUCED
    assert len(provider.asked) == 2  # the stored attempt counts as the first


# --- asking the index -------------------------------------------------------------------------------------------


class Index(PackageIndex):
    def __init__(self, listing: dict[str, tuple[Release, ...]], unreachable: bool = False) -> None:
        self.listing = listing
        self.unreachable = unreachable
        self.asked: list[str] = []

    @property
    def location(self) -> str:
        return "fake"

    def releases(self, name: str) -> tuple[Release, ...]:
        self.asked.append(name)
        if self.unreachable:
            raise IndexUnreachableError("down")
        if name not in self.listing:
            raise UnknownPackageError(name)
        return self.listing[name]


def release(version: str, *, yanked: bool = False) -> Release:
    return Release(Version(version), None, yanked, None)


def test_the_finder_takes_the_first_project_with_a_usable_release_and_asks_once() -> None:
    index = Index({"PyYAML": (release("6.0"),), "yaml": (release("0.1"),), "gone": (release("1.0", yanked=True),)})
    made: list[int] = []
    finder = IndexDistributionFinder(lambda: made.append(1) or index)  # type: ignore[func-returns-value]
    assert not made  # the index is made on the first question only
    assert finder(("PyYAML", "yaml")) == "PyYAML"
    assert finder(("nothing", "gone")) is None
    assert finder(("PyYAML",)) == "PyYAML"
    assert index.asked == ["PyYAML", "nothing", "gone"] and made == [1]


def test_an_unreachable_index_leaves_the_probe_unrepaired_and_says_so() -> None:
    warnings: list[str] = []
    finder = IndexDistributionFinder(lambda: Index({}, unreachable=True), warnings.append)
    assert finder(("packaging",)) is None
    assert warnings and "packaging" in warnings[0]
