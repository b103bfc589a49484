"""Fork-server mode: one worker per set of unchanging heavy distributions, a forked child per probe.

The worker imports the heavy modules (torch and what it pulls in) once; each probe's child only imports
what differs. A probe is sent to a worker only when every module the worker holds comes from a file of a
distribution that the probe's own environment locks identically (same name, version and file URL); when no
worker qualifies, one is started in the probe's own environment. The first probe of a case runs isolated
and teaches us which modules the case imports.

Starting a worker costs what importing torch costs, seconds, so it starts in the background as soon as a
probe of its group arrives, importing only the preloaded packages' top-level modules; the rest of what the
case needs from them (``torch._dynamo``, say) is imported into the running worker once the first probe has
named it, and proven again. Meanwhile the first probe runs, and probes of the same case on other threads wait
for its list instead of each running isolated.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from harness.environments.interface import Environment
from harness.files import write_atomically
from harness.model.case import Case, Parameters
from harness.model.outcome import RunObservation
from harness.process import RunInterrupted, start_worker, stop_worker, stopping
from harness.runners.interface import CaseRunner, RunResult
from harness.runners.isolated import IsolatedRunner, raised_error_from, read_bootstrap_report
from harness.runners.sites import file_owners, interpreter_of, locked_identities, site_packages, top_level_names

if TYPE_CHECKING:  # process.py alone starts programs; a worker's handle is only named here
    import subprocess

WORKER = Path(__file__).resolve().parent / "_forkworker.py"
MODE = "fork"  # recorded as the user names it (--mode fork)
DEFAULT_PRELOAD = ("torch",)
IDLE_EXIT_SECONDS = 2.0
MAX_WORKERS = 6
"""Workers kept at once, each some 300 MB with torch and the case imported: a time-travel bisection needs one
per numpy release it meets (torch imports numpy), and its confirmation goes back to the first of them."""
OWNER_MAPS_KEPT = 8
"""Site-packages whose file owners stay in memory (some 17,000 paths each with torch), oldest dropped first."""


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    site: Path
    held: dict[str, tuple[str, str, str]]
    """Distribution name -> locked identity, for every distribution a pre-imported module came from."""
    lock: threading.Lock
    interpreter: str = ""
    """The base interpreter the worker runs: a pure-Python wheel locks identically under 3.11 and 3.12."""
    locked: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """What the worker's own environment locks: the proof of modules it imports later is checked against it."""
    imported: frozenset[str] = frozenset()
    """The module names it was asked to pre-import so far."""
    tops: frozenset[str] = frozenset()
    """The top-level module names of the preloaded distributions in its environment."""

    def extend(self, names: Iterable[str]) -> dict[str, str | None] | None:
        """Import ``names`` too (a case's modules learnt after the worker started); every module it holds now,
        or None when nothing new was asked for."""
        with self.lock:
            missing = sorted(set(names) - self.imported)
            if not missing:
                return None
            reply = self._exchange({"import": missing})
            self.imported |= set(missing)
        modules: dict[str, str | None] = reply.get("modules", {})
        return modules

    def stop(self) -> None:
        """An idle worker exits at the end of its input; a busy one (the harness is stopping) is told to."""
        _stop_process(self.process, grace=IDLE_EXIT_SECONDS)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return self._exchange(request)

    def _exchange(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
            line = stdout.readline()
        except ValueError:  # stop() closed the pipes under us: the harness is stopping
            line = ""
        if not line:
            if stopping():
                raise RunInterrupted("fork-server worker")
            raise RuntimeError("fork-server worker exited")
        reply: dict[str, Any] = json.loads(line)
        return reply


class _StartEnded(Exception):
    """A worker started for a guess was stopped to make room for a later guess's: no failure of the worker."""


@dataclass
class _Start:
    """A worker starting in the background for one group."""

    future: Future[_Worker | None]
    guess_round: int
    """The latest round of guesses that wanted it (``Lookahead``'s numbering); 0 once a wanted probe waits for
    it, or when one asked for it: such a start is never stopped."""
    process: subprocess.Popen[str] | None = None
    ended: bool = False


class ForkServerRunner(CaseRunner):
    def __init__(
        self,
        preload: Iterable[str] = DEFAULT_PRELOAD,
        fallback: CaseRunner | None = None,
        *,
        max_workers: int = MAX_WORKERS,
        imports_dir: Path | None = None,
    ) -> None:
        self.preload = tuple(canonicalize_name(name) for name in preload)
        self.fallback = fallback or IsolatedRunner()
        self.max_workers = max_workers
        self._modules: dict[str, tuple[str, ...]] = {}
        """Per case: the modules its first (isolated) probe imported, which every later worker pre-imports."""
        self.imports_dir = imports_dir
        """Where each case's module list is kept between runs (by case id and content hash), if anywhere: a
        later run's workers then import them from the start, and its first probe forks too. Only a hint:
        every module a worker holds is still proven per probe."""
        self._unprovable: set[str] = set()
        """Cases whose pre-imports could not be traced to distributions: they always run isolated."""
        self._workers: list[_Worker] = []
        """Most recently used last; each holds one set of distributions, proven per probe."""
        self._lock = threading.Lock()
        self._learning: dict[str, threading.Event] = {}
        """Per case whose first probe is running: set when it has taught the imports (or failed to)."""
        self._starting: dict[tuple[str, ...], _Start] = {}
        """Per group (``_group``): the worker starting for it, so that only one starts."""
        self._owners_by_site: dict[tuple[str, int, int], dict[Path, str]] = {}
        self._held_names: set[str] = set(self._held_hint())
        """Every distribution a worker was found to hold: environments that lock one otherwise need another.
        An earlier run's finding seeds it, so that the first guesses of a run already tell apart environments
        whose numpy differs (the names only split groups: a worker is still proven per probe)."""
        self.refusals: list[str] = []
        """Why probes were run isolated instead: kept so tests and benchmarks can see the proof fail."""

    def close(self) -> None:
        with self._lock:
            starting = list(self._starting.values())
            # No probe will want what only guesses asked for now: stopped, not waited for.
            guessed = self._end([start for start in starting if start.guess_round and not start.ended])
        _kill_started(guessed)
        for start in starting:  # a worker still starting would outlive the harness otherwise
            with contextlib.suppress(BaseException):
                start.future.result()
        with self._lock:
            workers, self._workers = self._workers, []
            self._starting.clear()
        # Every worker is told first, so that they exit side by side rather than one after another.
        for worker in workers:
            _close_stream(worker.process.stdin)
        for worker in workers:
            worker.stop()

    def run(self, environment: Environment, case: Case, parameters: Parameters, *, run_index: int = 0) -> RunResult:
        identities = locked_identities(environment)
        if case.id in self._unprovable or not any(name in identities for name in self.preload):
            return self.fallback.run(environment, case, parameters, run_index=run_index)
        # Torch is imported in the worker while the case's first probe (or this thread's wait for it) runs.
        self._warm(environment, identities, self._remembered_modules(case))
        modules = self._learned_modules(case.id)
        if modules is None:
            # The first probe of a case runs isolated and tells us which modules the case imports; probes of
            # the same case on other threads wait for that instead of each running isolated.
            try:
                result = self.fallback.run(environment, case, parameters, run_index=run_index)
                self._modules[case.id] = result.modules
                self._remember(case, result.modules)
                if self._worker_for(environment, identities, result.modules) is None:
                    self._unprovable.add(case.id)
            finally:
                with self._lock:
                    self._learning.pop(case.id).set()
            return result
        if case.id in self._unprovable:
            return self.fallback.run(environment, case, parameters, run_index=run_index)
        worker = self._worker_for(environment, identities, modules)
        if worker is None:
            self._unprovable.add(case.id)
            return self.fallback.run(environment, case, parameters, run_index=run_index)
        return self._run_forked(worker, environment, case, parameters, run_index)

    def ready(self, environment: Environment, case: Case, *, guess_round: int = 0) -> bool:
        """Whether a probe here would fork at once: the case's imports are known and a worker holding them,
        proven for this environment, is running. When not, the worker it needs starts in the background (see
        ``_warm`` for a guess's)."""
        identities = locked_identities(environment)
        if case.id in self._unprovable or not any(name in identities for name in self.preload):
            return True  # it runs isolated, which waits for nothing
        modules = self._remembered_modules(case)
        group = self._warm(environment, identities, modules, guess_round=guess_round)
        with self._lock:
            start = self._starting.get(group)
            if case.id not in self._modules or (start is not None and not start.future.done()):
                return False
            worker = self._find_worker(identities, group[0])
        return worker is not None and {m for m in modules if m.split(".")[0] in worker.tops} <= worker.imported

    def _held_file(self) -> Path | None:
        return None if self.imports_dir is None else self.imports_dir / f"held-by-{'+'.join(self.preload)}.json"

    def _held_hint(self) -> list[str]:
        path = self._held_file()
        try:
            names = json.loads(path.read_text(encoding="utf-8")) if path is not None else []
        except (OSError, ValueError):
            return []  # none yet, or unreadable: the first worker finds them again
        return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []

    def _learn_held(self, held: Mapping[str, object]) -> None:
        with self._lock:
            grown = not set(held) <= self._held_names
            self._held_names.update(held)
            names = sorted(self._held_names)
        path = self._held_file()
        if grown and path is not None:
            with contextlib.suppress(OSError):  # a hint for the next run, never worth failing a probe over
                write_atomically(path, json.dumps(names))

    def _imports_file(self, case: Case) -> Path | None:
        return None if self.imports_dir is None else self.imports_dir / f"{case.id}-{case.content_hash}.json"

    def _remembered_modules(self, case: Case) -> tuple[str, ...]:
        """The case's modules, as this run learnt them or an earlier run of the same case left them."""
        with self._lock:
            if case.id in self._modules:
                return self._modules[case.id]
        path = self._imports_file(case)
        try:
            names = json.loads(path.read_text(encoding="utf-8")) if path is not None else None
        except (OSError, ValueError):
            names = None  # none yet, or unreadable: the first probe teaches them again
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return ()
        with self._lock:
            return self._modules.setdefault(case.id, tuple(names))

    def _remember(self, case: Case, modules: tuple[str, ...]) -> None:
        path = self._imports_file(case)
        if path is not None:
            with contextlib.suppress(OSError):  # a hint for the next run, never worth failing a probe over
                write_atomically(path, json.dumps(sorted(modules)))

    def _learned_modules(self, case_id: str) -> tuple[str, ...] | None:
        """The modules the case's first probe imported; None when this thread is to run that probe."""
        while True:
            with self._lock:
                if case_id in self._modules:
                    return self._modules[case_id]
                learning = self._learning.get(case_id)
                if learning is None:
                    self._learning[case_id] = threading.Event()
                    return None
            learning.wait()  # if that probe failed, the next round takes its place

    def _group(self, environment: Environment, identities: dict[str, tuple[str, str, str]]) -> tuple[str, ...]:
        """Environments that can share a worker share this: the interpreter and the files of the preloaded
        distributions and of those that workers were found to hold (torch imports numpy, and a time-travel
        bisection meets several numpy releases: a probe must not wait for a worker that will not serve it)."""
        with self._lock:
            names = sorted({*self.preload, *self._held_names})
        return (interpreter_of(environment), *(repr(identities[name]) for name in names if name in identities))

    def _warm(
        self,
        environment: Environment,
        identities: dict[str, tuple[str, str, str]],
        modules: Sequence[str],
        *,
        guess_round: int = 0,
    ) -> tuple[str, ...]:
        """Start a worker for this environment's group (returned) in the background, unless one runs or is
        starting.

        A guess (``guess_round`` > 0) starts one only while no other guess's start is under way, so that guesses
        keep at most one core busy. A later round does not stop an earlier round's start: that start is most
        often for the probe the search asks for next (a round's first item is the probe the search wants, and
        a guess of it got there first). A start a wanted probe waits for stops the guesses' starts of other
        groups instead: on few cores their imports beside it only make the probe wait longer.

        It imports the preloaded packages' top-level modules and those of ``modules`` (the case's, when known)
        that belong to them: the rest is known once the case's first probe has run, and ``_worker_for`` has the
        worker import it then.
        """
        group = self._group(environment, identities)
        with self._lock:
            start, ended = self._plan_start(group, identities, guess_round)
        _kill_started(ended)
        if start is None:
            return group

        def start_in_background() -> None:
            try:
                site = site_packages(environment)
                tops = sorted(top_level_names(site, self.preload))
                start.future.set_result(self._start_worker(environment, [*tops, *modules], start))
            except BaseException as exc:  # handed to whichever probe needs the worker
                start.future.set_exception(exc)

        threading.Thread(target=start_in_background, name="harness-fork-worker-start", daemon=True).start()
        return group

    def _plan_start(
        self, group: tuple[str, ...], identities: dict[str, tuple[str, str, str]], guess_round: int
    ) -> tuple[_Start | None, list[_Start]]:
        """Under the lock: the start to make for ``group`` (None: none is needed, or a guess may not start one
        now), and the guessed starts to stop first (already marked ended)."""
        known = self._starting.get(group)
        if known is not None and not known.ended:
            if guess_round and known.guess_round:
                known.guess_round = max(known.guess_round, guess_round)  # this round wants it too: kept
            return None, []
        if self._find_worker(identities, group[0]) is not None:
            return None, []
        guessed = [s for s in self._starting.values() if s.guess_round and not s.ended and not s.future.done()]
        if not guess_round:  # a probe waits for this one: a guess's import beside it would only slow it down
            return self._register(group, guess_round), self._end(guessed)
        if guessed:
            return None, []  # one guess's start at a time
        return self._register(group, guess_round), []

    def _register(self, group: tuple[str, ...], guess_round: int) -> _Start:
        start = _Start(Future(), guess_round)
        self._starting[group] = start
        return start

    @staticmethod
    def _end(starts: list[_Start]) -> list[_Start]:
        for start in starts:
            start.ended = True
        return starts

    def _worker_for(
        self, environment: Environment, identities: dict[str, tuple[str, str, str]], modules: tuple[str, ...]
    ) -> _Worker | None:
        """A worker holding the case's preloaded modules, all from files this environment locks identically:
        the one started for its group, else a running one that matches, else a new one (None: unprovable)."""
        group = self._group(environment, identities)
        with self._lock:
            start = self._starting.get(group)
            if start is not None:
                start.guess_round = 0  # wanted now: never stopped for a guess
        if start is not None:
            try:
                start.future.result()
            except _StartEnded:
                pass  # stopped for a guess before this probe came to want it: one is started below
            finally:
                with self._lock:
                    if self._starting.get(group) is start:
                        del self._starting[group]
        worker = self._matching_worker(identities, group[0]) or self._start_worker(environment, modules)
        if worker is None:
            return None
        imported = worker.extend(m for m in modules if m.split(".")[0] in worker.tops)
        if imported is None:
            return worker
        held = self._prove(worker.site, imported, worker.locked)
        if held is None:  # a module the case needs cannot be traced to a distribution: no worker can hold it
            self._retire(worker)
            return None
        worker.held = held
        self._learn_held(held)
        if all(identities.get(name) == identity for name, identity in held.items()):
            return worker
        # What the case made it import (numpy, say) is locked otherwise here: a worker of this environment's own.
        return self._start_worker(environment, modules)

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
        worker.stop()

    def _matching_worker(self, identities: dict[str, tuple[str, str, str]], interpreter: str) -> _Worker | None:
        """A worker on this interpreter every one of whose modules comes from a distribution this environment
        locks identically; it becomes the most recently used."""
        with self._lock:
            worker = self._find_worker(identities, interpreter)
            if worker is not None:
                self._workers.remove(worker)
                self._workers.append(worker)
            return worker

    def _find_worker(self, identities: dict[str, tuple[str, str, str]], interpreter: str) -> _Worker | None:
        for worker in reversed(self._workers):
            same_files = all(identities.get(name) == identity for name, identity in worker.held.items())
            if same_files and worker.interpreter == interpreter:
                return worker
        return None

    def _start_worker(
        self, environment: Environment, modules: Sequence[str], start: _Start | None = None
    ) -> _Worker | None:
        """A worker in this environment, pre-importing the case's modules that belong to preloaded packages
        (None: what it imported cannot be proven, or it died starting); ``start``: the background start this
        is, which a later guess may end (raising ``_StartEnded``).

        A time-travel bisection resolves, say, numpy differently per release; torch imports numpy, so those
        environments cannot share a worker. Each such group gets its own, and the least recently used one
        is stopped beyond ``max_workers`` (each holds torch in memory).
        """
        site = site_packages(environment)
        tops = top_level_names(site, self.preload)
        wanted = [m for m in modules if m.split(".")[0] in tops]
        process = start_worker([environment.python_executable, "-I", WORKER, json.dumps(wanted), str(os.getpid())])
        assert process.stdout is not None
        if start is not None:
            with self._lock:
                start.process = process  # from now on, whoever ends the start stops the process too
        try:
            self._owners(site)  # read while the worker imports: its proof needs them
        except BaseException:
            _stop_process(process, grace=0.0)
            raise
        # Ended before it had a process, or while it imported (its reply is then cut short): no worker.
        hello = {} if start is not None and start.ended else json.loads(process.stdout.readline() or "{}")
        if start is not None and start.ended:
            _stop_process(process, grace=0.0)
            raise _StartEnded
        if not hello.get("ready"):
            self.refusals.append(f"the fork-server worker in {environment.location} exited while starting")
            _stop_process(process, grace=0.0)
            return None
        locked = locked_identities(environment)
        held = self._prove(site, hello.get("modules", {}), locked)
        if held is None:
            _stop_process(process, grace=IDLE_EXIT_SECONDS)
            return None
        worker = _Worker(
            process,
            site,
            held,
            threading.Lock(),
            interpreter_of(environment),
            locked,
            frozenset(wanted),
            frozenset(tops),
        )
        self._learn_held(held)
        with self._lock:
            self._workers.append(worker)
            retired = self._workers[: -self.max_workers] if len(self._workers) > self.max_workers else []
            del self._workers[: len(retired)]
        for old in retired:
            old.stop()
        return worker

    def _owners(self, site: Path) -> dict[Path, str]:
        """``file_owners`` of a site-packages, read once per install of it (a start and a proof both need it)."""
        info = site.stat()
        key = (str(site), info.st_ino, info.st_mtime_ns)
        with self._lock:
            known = self._owners_by_site.get(key)
        if known is None:
            known = file_owners(site)
            with self._lock:
                self._owners_by_site[key] = known
                while len(self._owners_by_site) > OWNER_MAPS_KEPT:  # a long bisection meets many environments
                    del self._owners_by_site[next(iter(self._owners_by_site))]
        return known

    def _prove(
        self, site: Path, modules: dict[str, str | None], identities: dict[str, tuple[str, str, str]]
    ) -> dict[str, tuple[str, str, str]] | None:
        """The distributions behind every pre-imported module from site-packages, as ``identities`` (the worker
        environment's lock) names them; None if one is unknown."""
        owners = self._owners(site)
        held: dict[str, tuple[str, str, str]] = {}
        resolved_site = site.resolve()
        for module, file in modules.items():
            if not file:
                continue
            path = Path(file).resolve()
            if resolved_site not in path.parents:
                continue  # the standard library: the interpreter is the same for every environment
            owner = owners.get(path)
            if owner is None or owner not in identities:
                self.refusals.append(f"cannot tell which distribution installed {module} ({path})")
                return None
            held[owner] = identities[owner]
        return held

    def _run_forked(
        self, worker: _Worker, environment: Environment, case: Case, parameters: Parameters, run_index: int = 0
    ) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="harness-fork-") as scratch:
            report_path = Path(scratch) / "report.json"
            stderr_path = Path(scratch) / "stderr.txt"
            reply = worker.call(
                {
                    "replay": str(case.replay_file),
                    "parameters": dict(parameters),
                    "site": [str(site_packages(environment))],
                    "result": str(report_path),
                    "stderr": str(stderr_path),
                    "timeout": case.timeout_seconds,
                    "run_index": run_index,
                }
            )
            report = read_bootstrap_report(report_path)
            stderr_tail = stderr_path.read_text(errors="replace")[-2000:] if stderr_path.exists() else ""
        observation = RunObservation(
            returncode=int(reply["returncode"]),
            timed_out=bool(reply["timed_out"]),
            completed=report is not None,
            error=raised_error_from(report) if report else None,
            stderr_tail=stderr_tail,
        )
        return RunResult(
            observation=observation,
            seconds=float(reply["seconds"]),
            python_full=str(report.get("python_full")) if report else None,
            platform=str(report.get("platform")) if report else None,
            mode=MODE,
        )


def _stop_process(process: subprocess.Popen[str], *, grace: float) -> None:
    """End a worker's input, give it ``grace`` seconds to exit, then stop it; close its output too, or each
    stopped worker leaks its pipe's descriptor."""
    _close_stream(process.stdin)
    stop_worker(process, grace=grace)
    _close_stream(process.stdout)


def _kill_started(ended: Iterable[_Start]) -> None:
    """Stop the processes of starts just marked ended; a start without one yet sees ``ended`` once it has one."""
    for start in ended:
        if start.process is not None:
            stop_worker(start.process, grace=0.0)


def _close_stream(stream: IO[str] | None) -> None:
    if stream is not None:
        stream.close()
