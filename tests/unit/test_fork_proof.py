"""The proof that decides fork reuse: a worker serves a probe only if everything it pre-imported is locked identically.

Fake environments and hand-written site-packages stand in for uv's; no worker process is started.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from harness.environments.interface import Environment
from harness.errors import CommandNotFoundError
from harness.model.case import Case, Parameters
from harness.model.outcome import RunObservation
from harness.runners.forkserver import ForkServerRunner, _Start, _Worker
from harness.runners.interface import CaseRunner, RunResult
from harness.runners.sites import file_owners, locked_identities, top_level_names

if TYPE_CHECKING:
    import subprocess

DEP_2 = ("fakedep", "2.0", "file:///wheels/fakedep-2.0-py3-none-any.whl")
DEP_1 = ("fakedep", "1.0", "file:///wheels/fakedep-1.0-py3-none-any.whl")
DEP_2_REBUILT = ("fakedep", "2.0", "file:///other/fakedep-2.0-py3-none-any.whl")
PKG = ("fakepkg", "1.4", "file:///wheels/fakepkg-1.4-py3-none-any.whl")


def environment(location: Path, *locked: tuple[str, str, str]) -> Environment:
    return Environment("env", location, location / "bin" / "python", (), 0.0, 0.0, False, False, locked)


def install(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """Write a distribution into ``site`` as an installer would: its files and a RECORD naming them."""
    dist_info = site / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    lines = [f"{relative},sha256=x,1" for relative in files] + [f"{dist_info.name}/RECORD,,"]
    (dist_info / "RECORD").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    install(folder, "fakedep", "2.0", {"fakedep/__init__.py": "", "fakedep/_speedups.so": ""})
    install(folder, "fake_pkg", "1.4", {"fakepkg/__init__.py": "", "fakepkg_helpers.py": ""})
    (folder / "stray.py").write_text("")  # in site-packages, but no RECORD lists it
    return folder


def test_file_owners_and_top_level_names_come_from_records(site: Path) -> None:
    owners = file_owners(site)
    assert owners[(site / "fakedep" / "__init__.py").resolve()] == "fakedep"
    assert owners[(site / "fakepkg_helpers.py").resolve()] == "fake-pkg"
    assert (site / "stray.py").resolve() not in owners
    assert top_level_names(site, ["fakedep"]) == {"fakedep"}
    assert top_level_names(site, ["Fake_Pkg"]) == {"fakepkg", "fakepkg_helpers"}


def test_top_level_names_skip_files_installed_outside_site_packages(site: Path) -> None:
    install(site, "tool", "1.0", {"tool/__init__.py": "", "../../../bin/tool-script.py": "", "tool/data.txt": ""})
    assert top_level_names(site, ["tool"]) == {"tool"}
    assert top_level_names(site, ["tool", "fakedep"]) == {"tool", "fakedep"}


def test_identities_are_keyed_by_canonical_name(tmp_path: Path) -> None:
    env = environment(tmp_path, ("Fake_Dep", "2.0", "u"))
    assert locked_identities(env) == {"fake-dep": ("Fake_Dep", "2.0", "u")}


def test_the_proof_names_the_distribution_behind_every_site_module(site: Path) -> None:
    runner = ForkServerRunner(preload=("fakedep",))
    env = environment(site.parents[2], DEP_2, ("fake-pkg", "1.4", "u"))
    modules = {
        "fakedep": str(site / "fakedep" / "__init__.py"),
        "fakedep._speedups": str(site / "fakedep" / "_speedups.so"),
        "json": "/usr/lib/python3.11/json/__init__.py",  # the interpreter's, the same in every environment
        "sys": None,  # built in
    }
    assert runner._prove(site, modules, locked_identities(env)) == {"fakedep": DEP_2}
    assert runner.refusals == []


def test_the_proof_refuses_a_module_no_record_owns(site: Path) -> None:
    runner = ForkServerRunner(preload=("fakedep",))
    env = environment(site.parents[2], DEP_2)
    modules: dict[str, str | None] = {"fakedep": str(site / "fakedep" / "__init__.py"), "stray": str(site / "stray.py")}
    assert runner._prove(site, modules, locked_identities(env)) is None
    assert runner.refusals == [f"cannot tell which distribution installed stray ({(site / 'stray.py').resolve()})"]


def test_the_proof_refuses_a_distribution_the_environment_does_not_lock(site: Path) -> None:
    runner = ForkServerRunner(preload=("fakedep",))
    env = environment(site.parents[2], DEP_2)  # fake-pkg is installed but not in the lock
    assert runner._prove(site, {"fakepkg": str(site / "fakepkg" / "__init__.py")}, locked_identities(env)) is None
    assert len(runner.refusals) == 1


def worker(held: dict[str, tuple[str, str, str]]) -> _Worker:
    # _matching_worker never touches the process; a stand-in keeps the test free of subprocesses.
    return _Worker(cast("subprocess.Popen[str]", object()), Path("/site"), held, threading.Lock())


@pytest.mark.parametrize(
    ("locked", "reused"),
    [
        ((DEP_2, PKG), True),  # the same fakedep file: the worker's modules are this environment's
        ((DEP_2,), True),  # what else the environment holds does not matter
        ((DEP_1, PKG), False),  # another version of the preloaded distribution
        ((DEP_2_REBUILT, PKG), False),  # the same version from another file (a local build, another index)
        ((PKG,), False),  # the environment does not hold fakedep at all
    ],
)
def test_a_worker_is_reused_only_for_an_identically_locked_distribution(
    tmp_path: Path, locked: tuple[tuple[str, str, str], ...], reused: bool
) -> None:
    runner = ForkServerRunner(preload=("fakedep",))
    held = worker({"fakedep": DEP_2})
    runner._workers.append(held)
    found = runner._matching_worker(locked_identities(environment(tmp_path, *locked)), "")
    assert (found is held) is reused


def test_a_worker_is_never_reused_on_another_interpreter(tmp_path: Path) -> None:
    # A pure-Python wheel locks identically under 3.11 and 3.12: the interpreter must match as well.
    runner = ForkServerRunner(preload=("fakedep",))
    held = worker({"fakedep": DEP_2})
    runner._workers.append(held)
    identities = locked_identities(environment(tmp_path, DEP_2, PKG))
    assert runner._matching_worker(identities, "/usr/bin/python3.12") is None
    assert runner._matching_worker(identities, "") is held


def test_every_held_distribution_must_match_and_the_newest_match_is_moved_last(tmp_path: Path) -> None:
    runner = ForkServerRunner(preload=("fakedep",))
    both = worker({"fakedep": DEP_2, "fakepkg": PKG})
    old, new, other = worker({"fakedep": DEP_2}), worker({"fakedep": DEP_2}), worker({"fakedep": DEP_1})
    runner._workers.extend([old, new, both, other])
    assert runner._matching_worker(locked_identities(environment(tmp_path, DEP_2)), "") is new
    assert runner._workers == [old, both, other, new]
    assert runner._matching_worker(locked_identities(environment(tmp_path, DEP_2, PKG)), "") is new
    pkg_15 = ("fakepkg", "1.5", "file:///wheels/fakepkg-1.5-py3-none-any.whl")
    runner._workers.remove(new)
    runner._workers.remove(old)
    assert runner._matching_worker(locked_identities(environment(tmp_path, DEP_2, pkg_15)), "") is None


class RecordingRunner(CaseRunner):
    def __init__(self) -> None:
        self.calls = 0

    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        self.calls += 1
        return RunResult(RunObservation(0, False, True, None, ""), 0.0)


def test_an_environment_without_a_preloaded_distribution_runs_isolated(tmp_path: Path) -> None:
    fallback = RecordingRunner()
    runner = ForkServerRunner(preload=("torch",), fallback=fallback)
    case = cast(Case, type("C", (), {"id": "c"})())
    result = runner.run(environment(tmp_path, DEP_2, PKG), case, ())
    assert (fallback.calls, result.mode) == (1, "isolated")
    assert runner._workers == [] and runner._modules == {}


# --- readiness, which a guessed probe asks before it would wait for a worker -----------------------------------


def test_the_group_names_the_distributions_workers_were_found_to_hold(site: Path) -> None:
    # torch imports numpy: once a worker is found to hold numpy, releases that resolve another numpy need their
    # own worker, and a probe must not wait for a worker that is starting for the other numpy.
    runner = ForkServerRunner(preload=("fakedep",))
    pkg_15 = ("fakepkg", "1.5", "file:///wheels/fakepkg-1.5-py3-none-any.whl")
    first, second = environment(site.parents[2], DEP_2, PKG), environment(site.parents[2], DEP_2, pkg_15)
    assert runner._group(first, locked_identities(first)) == runner._group(second, locked_identities(second))
    runner._held_names.update({"fakedep", "fakepkg"})  # as a started worker's proof records them
    assert runner._group(first, locked_identities(first)) != runner._group(second, locked_identities(second))


def ready_runner(site: Path, *, imported: frozenset[str] = frozenset({"fakedep"})) -> tuple[ForkServerRunner, Case]:
    runner = ForkServerRunner(preload=("fakedep",))
    case = cast(Case, type("C", (), {"id": "c", "content_hash": "h"})())
    runner._modules["c"] = ("fakedep", "fakedep.extra", "json")
    held = worker({"fakedep": DEP_2})
    held.interpreter = "python3.11"  # what interpreter_of says for an environment without pyvenv.cfg
    held.tops, held.imported = frozenset({"fakedep"}), imported
    runner._workers.append(held)
    return runner, case


def test_ready_when_a_proven_worker_holds_what_the_case_imports(site: Path) -> None:
    runner, case = ready_runner(site, imported=frozenset({"fakedep", "fakedep.extra"}))
    assert runner.ready(environment(site.parents[2], DEP_2, PKG), case)
    assert runner._starting == {}  # nothing to start


def test_not_ready_while_the_worker_still_has_modules_to_import(site: Path) -> None:
    runner, case = ready_runner(site)  # fakedep.extra is not imported yet: the probe would wait for it
    assert not runner.ready(environment(site.parents[2], DEP_2, PKG), case)


def test_not_ready_while_the_case_has_not_taught_its_imports(site: Path) -> None:
    runner, case = ready_runner(site, imported=frozenset({"fakedep", "fakedep.extra"}))
    del runner._modules["c"]
    env = environment(site.parents[2], DEP_2, PKG)
    assert not runner.ready(env, case, guess_round=1)  # the worker runs, but which modules it needs is unknown
    assert runner._starting == {}


def test_guesses_start_one_worker_at_a_time_beside_those_wanted_probes_wait_for(site: Path) -> None:
    runner, case = ready_runner(site, imported=frozenset({"fakedep", "fakedep.extra"}))
    other = environment(site.parents[2], DEP_1, PKG)  # no worker holds fakedep 1.0
    guessed = _Start(Future(), guess_round=5)
    runner._starting[("a guessed group",)] = guessed
    assert not runner.ready(other, case, guess_round=5)
    assert list(runner._starting) == [("a guessed group",)]  # a guess of the same round is starting one
    assert not guessed.ended
    guessed.guess_round = 0  # a wanted probe now waits for it: it no longer holds guesses back
    assert not runner.ready(other, case, guess_round=5)  # not ready yet: its own start has only begun
    own = runner._starting[runner._group(other, locked_identities(other))]
    assert own.guess_round == 5 and not guessed.ended
    with pytest.raises(CommandNotFoundError):
        own.future.result(timeout=10)  # the stand-in environment has no interpreter to start


def test_a_later_round_of_guesses_waits_for_the_start_an_earlier_round_asked_for(site: Path) -> None:
    # That start is most often for the probe the search asks for next: stopping it made that probe start over.
    runner, case = ready_runner(site, imported=frozenset({"fakedep", "fakedep.extra"}))
    other = environment(site.parents[2], DEP_1, PKG)
    group = runner._group(other, locked_identities(other))
    earlier = _Start(Future(), guess_round=3)
    runner._starting[("an earlier guess's group",)] = earlier
    assert not runner.ready(other, case, guess_round=4)
    assert not earlier.ended and group not in runner._starting
    # The same group asked for again keeps its start, for the latest round that wants it.
    kept = _Start(Future(), guess_round=4)
    runner._starting = {group: kept}
    assert not runner.ready(other, case, guess_round=9)
    assert runner._starting[group] is kept and kept.guess_round == 9


def test_a_start_a_probe_waits_for_stops_the_guesses_starts_of_other_groups(site: Path) -> None:
    runner, case = ready_runner(site, imported=frozenset({"fakedep", "fakedep.extra"}))
    other = environment(site.parents[2], DEP_1, PKG)
    guessed, wanted = _Start(Future(), guess_round=3), _Start(Future(), guess_round=0)
    runner._starting = {("a guessed group",): guessed, ("a wanted group",): wanted}
    assert not runner.ready(other, case)  # a wanted probe's: it starts, whatever else is starting
    own = runner._starting[runner._group(other, locked_identities(other))]
    assert own.guess_round == 0 and guessed.ended and not wanted.ended
    with pytest.raises(CommandNotFoundError):
        own.future.result(timeout=10)  # the stand-in environment has no interpreter to start


def test_an_environment_without_a_preloaded_distribution_is_always_ready(tmp_path: Path) -> None:
    runner = ForkServerRunner(preload=("torch",))
    case = cast(Case, type("C", (), {"id": "c"})())
    assert runner.ready(environment(tmp_path, DEP_2, PKG), case)


def test_closing_stops_the_starts_only_guesses_asked_for_and_waits_for_the_others() -> None:
    runner = ForkServerRunner(preload=("fakedep",))
    guessed, wanted = _Start(Future(), guess_round=2), _Start(Future(), guess_round=0)
    for start in (guessed, wanted):
        start.future.set_result(None)
    runner._starting.update({("guessed",): guessed, ("wanted",): wanted})
    runner.close()
    assert guessed.ended and not wanted.ended and runner._starting == {}


def test_what_workers_held_is_remembered_so_the_next_run_groups_by_it_from_the_start(tmp_path: Path) -> None:
    # Before any worker has run, a run does not know that torch imports numpy: environments that differ only
    # in numpy would wait for one worker that can serve neither. An earlier run's finding tells them apart.
    imports = tmp_path / "imports"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.7\n")
    one, two = environment(tmp_path / "a", PKG, DEP_1), environment(tmp_path / "b", PKG, DEP_2)
    blind = ForkServerRunner(preload=("fakepkg",), imports_dir=imports)
    assert blind._group(one, locked_identities(one)) == blind._group(two, locked_identities(two))
    blind._learn_held({"fakepkg": PKG, "fakedep": DEP_2})
    later = ForkServerRunner(preload=("fakepkg",), imports_dir=imports)
    assert later._group(one, locked_identities(one)) != later._group(two, locked_identities(two))
    elsewhere = ForkServerRunner(preload=("fakepkg",), imports_dir=tmp_path / "other")
    assert elsewhere._group(one, locked_identities(one)) == elsewhere._group(two, locked_identities(two))
    (imports / "held-by-fakepkg.json").write_text("{not json")
    assert ForkServerRunner(preload=("fakepkg",), imports_dir=imports)._held_names == set()  # a hint, no failure
