"""Side-by-side timings of probing the recorded case: plain nox set-ups against the harness's modes.

Run from the repository root:  python benchmarks/bench_probes.py [--repeat 3] [--skip-pip]
Only the main job's rows (`nox -s repro -- --fresh`, fork by default and --mode isolated) against the bare case:
python benchmarks/bench_probes.py --only main-job; only the bisection and culprit rows at 1 and 2 jobs: --only searches;
only the sharded workflow's steps (list, two shards, merge and report): --only shards

Everything is measured in this one run, on this machine, with warm caches (each set-up is run once before
it is timed), and printed as medians and ratios: the bare case in a ready environment is the floor that an
isolated probe cannot beat; the fork mode is allowed below it because it shares the heavy imports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import process  # noqa: E402
from harness.config import load_case  # noqa: E402
from harness.environments.interface import Environment, EnvironmentRequest  # noqa: E402
from harness.environments.uv import UvEnvironmentProvider  # noqa: E402
from harness.model.matrix import Combination  # noqa: E402
from harness.model.pins import Pin  # noqa: E402
from harness.probing.prober import Prober  # noqa: E402
from harness.probing.record_store import RecordStore  # noqa: E402
from harness.repro.plan import execute, plan  # noqa: E402
from harness.runners.forkserver import ForkServerRunner  # noqa: E402
from harness.runners.interface import CaseRunner  # noqa: E402
from harness.runners.isolated import IsolatedRunner  # noqa: E402
from harness.sources import combine, read_pip_settings  # noqa: E402

CASE = load_case(ROOT / "cases" / "rotary_xpos_batch1_seq32")
MATRIX = [
    Combination((Pin.of("x-transformers", xt), Pin.of("einops", ein), Pin.of("torch", "2.13.0")))
    for xt in ("1.42.20", "1.42.21", "1.43.1", "1.43.2")
    for ein in ("0.8.0", "0.8.2")
]
ONE = MATRIX[2]

PLAIN_NOXFILE = """
import nox

@nox.session(python="3.11", venv_backend={backend!r}, reuse_venv=False)
@nox.parametrize("pins", {pins!r})
def plain(session, pins):
    session.install(*pins.split())
    session.run("python", {replay!r}, success_codes=[0, 1])
"""


@dataclass(frozen=True)
class Row:
    name: str
    seconds: list[float]
    note: str = ""
    probes: int = 0
    """How many probes the row's median covers, for its per-probe figure; 0: no per-probe figure (a bisection)."""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


WARM_UP = True
"""Run each set-up once before timing it; ``--quick`` turns it off to check that the rows run at all."""


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    if WARM_UP:
        action()  # warm-up: caches, locks and environments are built here, not in the timed runs
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def bare_case(python: Path) -> None:
    # -I as the harness runs it: this machine sets PYTHONDONTWRITEBYTECODE, which -I ignores, and without -I
    # every import would recompile torch's sources and flatter the harness against the floor.
    process.run([python, "-I", CASE.replay_file], timeout=600)


def plain_nox(backend: str, combos: list[Combination], workdir: Path) -> Callable[[], None]:
    noxfile = workdir / f"noxfile_{backend}.py"
    pins = [" ".join(str(p) for p in c.pins) for c in combos]
    noxfile.write_text(textwrap.dedent(PLAIN_NOXFILE.format(backend=backend, pins=pins, replay=str(CASE.replay_file))))

    def run() -> None:
        result = process.run([sys.executable, "-m", "nox", "-f", noxfile, "--envdir", workdir / f".nox-{backend}"])
        if not result.ok:
            raise SystemExit(f"plain nox ({backend}) failed:\n{result.output[-2000:]}")

    return run


def harness_probes(runner: CaseRunner, combos: list[Combination], home: Path, jobs: int) -> Callable[[], None]:
    """Probe the combinations with no stored records (a fresh store each time), caches and runner kept warm."""
    sources = combine(read_pip_settings())

    def run() -> None:
        with tempfile.TemporaryDirectory() as records:
            store = RecordStore(Path(records))
            prober = Prober(UvEnvironmentProvider(home), runner, store, python="3.11", sources=sources)
            execute(plan([CASE], combos, prober), prober, jobs=jobs)

    return run


def copied_project(workdir: Path, name: str) -> Path:
    project = workdir / name
    if not project.exists():
        shutil.copytree(ROOT / "cases", project / "cases")
        shutil.copy2(ROOT / "versions.toml", project / "versions.toml")
    return project


def bisection(mode: str, workdir: Path, home: Path, jobs: int = 1) -> Callable[[], None]:
    """README's bisection of the recorded case over the full history, probing afresh (``--fresh``), with warm
    locks and environments: ``nox -s bisect -- rotary_xpos_batch1_seq32 x-transformers``."""
    project = copied_project(workdir, f"bisect-{mode}-{jobs}")
    environ = {**os.environ, "HARNESS_HOME": str(home), "PYTHONPATH": str(ROOT)}

    def run() -> None:
        argv: list[str | Path] = [sys.executable, "-m", "harness", "--root", project, "bisect", CASE.id]
        options = ["x-transformers", "--fresh", "--mode", mode, "--jobs", str(jobs)]
        result = process.run([*argv, *options], env=environ, timeout=3600)
        if not result.ok:
            raise SystemExit(f"bisection ({mode}, {jobs} jobs) failed:\n{result.output[-2000:]}")

    return run


CULPRIT_GOOD = "x-transformers==1.42.20\neinops==0.8.0\ntorch==2.13.0\n"
CULPRIT_BAD = "x-transformers==1.43.1\neinops==0.8.2\ntorch==2.14.1\n"


def culprit(workdir: Path, home: Path, jobs: int) -> Callable[[], None]:
    """README's culprit search (three packages moved at once) and the culprit's bisection, probing afresh."""
    project = copied_project(workdir, f"culprit-{jobs}")
    (project / "good.txt").write_text(CULPRIT_GOOD, encoding="utf-8")
    (project / "bad.txt").write_text(CULPRIT_BAD, encoding="utf-8")
    environ = {**os.environ, "HARNESS_HOME": str(home), "PYTHONPATH": str(ROOT)}

    def run() -> None:
        argv: list[str | Path] = [sys.executable, "-m", "harness", "--root", project, "culprit", CASE.id]
        envs: list[str | Path] = ["--good-env", project / "good.txt", "--bad-env", project / "bad.txt"]
        result = process.run([*argv, *envs, "--fresh", "--jobs", str(jobs)], env=environ, timeout=3600)
        if not result.ok:
            raise SystemExit(f"culprit ({jobs} jobs) failed:\n{result.output[-2000:]}")

    return run


def search_rows(workdir: Path, home: Path) -> list[Row]:
    """The bisection and the culprit search at one and two jobs (the default is one per core)."""
    rows = []
    for jobs in (1, 2):
        rows.append(
            Row(
                f"(f) bisect full history, fork, --fresh, {jobs} job{'s' * (jobs > 1)}",
                timed(bisection("fork", workdir, home, jobs), 1),
            )
        )
    for jobs in (1, 2):
        rows.append(
            Row(
                f"(g) culprit, 3 packages moved, --fresh, {jobs} job{'s' * (jobs > 1)}",
                timed(culprit(workdir, home, jobs), 1),
            )
        )
    return rows


def main_job(mode: str | None, workdir: Path, home: Path, jobs: int | None = None) -> Callable[[], None]:
    """`nox -s repro -- --fresh` on the repository's cases and versions.toml, as a user runs the main job.

    It runs in a copy of the project (HARNESS_ROOT), so the repository's reports stay as they are, and shares the
    warm harness home (locks and environments); ``--fresh`` still re-resolves and re-runs every combination.
    """
    label = f"{mode or 'default'}-{jobs or 'cores'}"
    project = copied_project(workdir, f"main-job-{label}")
    environ = {**os.environ, "HARNESS_HOME": str(home), "HARNESS_ROOT": str(project)}
    options = [*(["--mode", mode] if mode else []), *(["--jobs", str(jobs)] if jobs else [])]

    def run() -> None:
        argv: list[str | Path] = [sys.executable, "-m", "nox", "-f", ROOT / "noxfile.py", "-s", "repro"]
        result = process.run([*argv, "--", "--fresh", *options], env=environ, cwd=workdir, timeout=3600)
        if not result.ok:
            raise SystemExit(f"nox -s repro ({label}) failed:\n{result.output[-2000:]}")

    return run


def main_job_rows(workdir: Path, home: Path) -> list[Row]:
    """The main job with today's default (fork, workers shared across the Nox sessions, one job per core), with one
    job, and forced isolated with one job (the main job as it ran before fork became its default)."""
    combos = main_job_size()
    return [
        Row(f"(e) nox -s repro -- --fresh (default: fork), {combos} combos", timed(main_job(None, workdir, home), 1)),
        Row(f"(e) nox -s repro -- --fresh --jobs 1, {combos} combos", timed(main_job(None, workdir, home, 1), 1)),
        Row(
            f"(c) nox -s repro -- --fresh --mode isolated --jobs 1, {combos} combos",
            timed(main_job("isolated", workdir, home, 1), 1),
        ),
    ]


SHARDS = 2


def shard_rows(workdir: Path, home: Path) -> list[Row]:
    """The example workflow's steps (repro-matrix.yml) on this machine: list the shards balanced by a previous run's
    timings, run each shard in a project of its own (as its own CI job would), copy the records together and run
    `nox -s report`. The shards run one after another here; on CI they run side by side, so the workflow's wall
    time is the list, the slowest shard and the merge."""
    costs = copied_project(workdir, "shard-costs")
    harness = [sys.executable, "-m", "harness"]
    environ = {**os.environ, "HARNESS_HOME": str(home), "PYTHONPATH": str(ROOT)}
    check(process.run([*harness, "--root", costs, "repro", "--no-report"], env=environ, timeout=3600), "costs run")
    balance: list[str | Path] = ["--costs-from", costs / "reports" / "records"]
    shards = [copied_project(workdir, f"shard-{index}") for index in range(1, SHARDS + 1)]
    merged = copied_project(workdir, "shard-merged")

    def listing() -> None:
        argv = [*harness, "--root", shards[0], "list", "--json", "--shards", str(SHARDS), *balance]
        check(process.run(argv, env=environ, timeout=600), "list --shards")

    def shard(index: int) -> Callable[[], None]:
        def run() -> None:
            options = ["--fresh", "--no-report", "--jobs", "2", "--shard", f"{index}/{SHARDS}", *balance]
            result = process.run([*harness, "--root", shards[index - 1], "repro", *options], env=environ, timeout=3600)
            check(result, f"shard {index}/{SHARDS}")

        return run

    def merge() -> None:
        records = merged / "reports" / "records"
        shutil.rmtree(merged / "reports", ignore_errors=True)
        for project in shards:
            shutil.copytree(project / "reports" / "records", records, dirs_exist_ok=True)
        argv: list[str | Path] = [sys.executable, "-m", "nox", "-f", ROOT / "noxfile.py", "-s", "report"]
        check(process.run(argv, env={**environ, "HARNESS_ROOT": str(merged)}, cwd=workdir, timeout=600), "merge")

    rows = [Row(f"(h) workflow: harness list --json --shards {SHARDS}", timed(listing, 1))]
    rows += [
        Row(f"(h) workflow: repro --fresh --jobs 2 --shard {index}/{SHARDS}", timed(shard(index), 1))
        for index in range(1, SHARDS + 1)
    ]
    rows.append(Row("(h) workflow: copy the records, nox -s report", timed(merge, 1)))
    return rows


def check(result: process.Completed, what: str) -> None:
    if not result.ok:
        raise SystemExit(f"{what} failed:\n{result.output[-2000:]}")


def main_job_size() -> int:
    listing = process.run([sys.executable, "-m", "harness", "--root", ROOT, "list"], env={**os.environ}, timeout=600)
    return len(listing.stdout.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pip", action="store_true", help="leave out the slow virtualenv/pip set-up")
    parser.add_argument("--skip-bisect", action="store_true", help="leave out the full-history bisections")
    parser.add_argument("--skip-matrix", action="store_true", help="leave out the 8-combination matrix")
    parser.add_argument("--skip-main-job", action="store_true", help="leave out the `nox -s repro` runs")
    parser.add_argument("--skip-shards", action="store_true", help="leave out the sharded workflow's steps")
    parser.add_argument(
        "--only",
        choices=("main-job", "searches", "shards"),
        default=None,
        help=(
            "main-job: the bare case and the main job's rows only; searches: the bare case, bisect and culprit; "
            "shards: the bare case and the sharded workflow's steps"
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="one timed run per row and no warm-up: checks the rows, measures little"
    )
    args = parser.parse_args()
    if args.quick:
        global WARM_UP  # noqa: PLW0603 - a benchmark script's one switch
        WARM_UP = False
        args.repeat = 1
    home = ROOT / ".harness"
    workdir = Path(tempfile.mkdtemp(prefix="harness-bench-"))
    isolated, fork = IsolatedRunner(), ForkServerRunner()
    rows: list[Row] = []
    try:
        if args.only is not None:
            rows.append(bare_row(home, args.repeat))
        else:
            rows += single_probe_rows(args, workdir, home, isolated, fork)
        if not args.skip_matrix and args.only is None:
            rows += matrix_rows(args, workdir, home, isolated, fork)
        if not args.skip_main_job and args.only in (None, "main-job"):
            rows += main_job_rows(workdir, home)
        if not args.skip_shards and args.only in (None, "shards"):
            rows += shard_rows(workdir, home)
        if not args.skip_bisect and args.only in (None, "searches"):
            if args.only is None:
                rows.append(Row("(c) bisect full history, isolated", timed(bisection("isolated", workdir, home), 1)))
            rows += search_rows(workdir, home)
    finally:
        fork.close()
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    return 0


BARE_REPEAT = 5
"""Timed runs of the bare case at least: every ratio divides by it, so one slow run must not move them all."""


def bare_row(home: Path, repeat: int) -> Row:
    env = UvEnvironmentProvider(home).prepare(EnvironmentRequest(ONE.pins, "3.11", combine(read_pip_settings())))
    if not isinstance(env, Environment):
        raise SystemExit(f"cannot build the benchmark environment: {env.verdict.detail}")
    python = env.python_executable
    samples = timed(lambda: bare_case(python), max(repeat, BARE_REPEAT) if WARM_UP else repeat)
    return Row("bare case (python replay.py, ready env)", samples, probes=1)


def single_probe_rows(
    args: argparse.Namespace, workdir: Path, home: Path, isolated: CaseRunner, fork: CaseRunner
) -> list[Row]:
    one = [ONE]
    rows = [bare_row(home, args.repeat)]
    if not args.skip_pip:
        rows.append(
            Row("(a) plain nox, virtualenv/pip, 1 probe", timed(plain_nox("virtualenv", one, workdir), args.repeat))
        )
    rows.append(Row("(b) plain nox, uv backend, 1 probe", timed(plain_nox("uv", one, workdir), args.repeat)))
    rows.append(Row("(c) harness isolated, 1 probe", timed(harness_probes(isolated, one, home, 1), args.repeat)))
    rows.append(Row("(d) harness fork, 1 probe (worker warm)", timed(harness_probes(fork, one, home, 1), args.repeat)))
    return rows


def matrix_rows(
    args: argparse.Namespace, workdir: Path, home: Path, isolated: CaseRunner, fork: CaseRunner
) -> list[Row]:
    n = len(MATRIX)
    rows = []
    if not args.skip_pip:
        rows.append(
            Row(f"(a) plain nox, virtualenv/pip, {n} combos", timed(plain_nox("virtualenv", MATRIX, workdir), 1))
        )
    rows.append(Row(f"(b) plain nox, uv backend, {n} combos serial", timed(plain_nox("uv", MATRIX, workdir), 1)))
    rows.append(Row(f"(c) harness isolated, {n} combos, 1 job", timed(harness_probes(isolated, MATRIX, home, 1), 1)))
    rows.append(Row(f"(c) harness isolated, {n} combos, 2 jobs", timed(harness_probes(isolated, MATRIX, home, 2), 1)))
    rows.append(Row(f"(d) harness fork, {n} combos, 2 jobs", timed(harness_probes(fork, MATRIX, home, 2), 1)))
    return rows


def print_table(rows: list[Row]) -> None:
    floor = rows[0].median
    uv_matrix = next((row.median for row in rows if row.name.startswith("(b)") and "combos" in row.name), None)
    print(f"{'set-up':<66} {'median s':>9} {'per probe x bare':>17} {'x (b) matrix':>13} {'x bare':>7}")
    for row in rows:
        # A whole run (the main job, a workflow step, a search) is compared with one bare probe as a whole.
        main = any(word in row.name for word in ("nox -s repro", "(h)", "bisect", "culprit"))
        probes = row.probes or (len(MATRIX) if "combos" in row.name and not main else 1)
        per_probe = "" if main else f"{row.median / probes / floor:17.2f}"
        ratio = f"{row.median / uv_matrix:13.2f}" if uv_matrix and "combos" in row.name and not main else ""
        whole = f"{row.median / floor:7.2f}" if main else ""
        print(f"{row.name:<66} {row.median:9.2f} {per_probe:>17} {ratio:>13} {whole:>7}")
    print(f"\nA matrix row's per-probe figure is its time divided by {len(MATRIX)}; the bare case is the floor.")
    fork = next((row for row in rows if row.name.startswith("(e) nox -s repro")), None)
    isolated = next((row for row in rows if row.name.startswith("(c) nox -s repro")), None)
    if fork and isolated:
        print(
            f"The main job: {fork.median:.1f} s by default, {fork.median / floor:.2f}x one bare probe and "
            f"{fork.median / isolated.median:.2f}x the isolated run ({isolated.median:.1f} s)."
        )
    steps = [row for row in rows if row.name.startswith("(h)")]
    if steps:
        shards = [row.median for row in steps if "--shard " in row.name]
        wall = steps[0].median + max(shards) + steps[-1].median
        print(
            f"The sharded workflow: list {steps[0].median:.1f} s, shards {' / '.join(f'{s:.1f}' for s in shards)} s, "
            f"merge and report {steps[-1].median:.1f} s: {wall:.1f} s of wall time with the shards side by side."
        )


if __name__ == "__main__":
    raise SystemExit(main())
