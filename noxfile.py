"""Nox sessions: one `repro` session per version combination of versions.toml, plus reports and checks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # the harness runs from this checkout; no install step is needed for repro

from harness.noxsupport import repro_matrix, run_harness, run_repro, write_schemas  # noqa: E402

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["repro"]
nox.options.error_on_missing_interpreters = True

# HARNESS_ROOT points the sessions at another project folder (versions.toml, cases/, reports/).
# Expanded once per Nox run, here: `nox -l` lists it and every repro session replays its own combination of it.
MATRIX = repro_matrix(Path(os.environ.get("HARNESS_ROOT", ROOT)))

if MATRIX.error is None:

    @nox.session(python=False)
    @nox.parametrize(("combination", "cost"), list(zip(MATRIX.labels, MATRIX.costs, strict=True)), ids=MATRIX.labels)
    def repro(session: nox.Session, combination: str, cost: dict[str, object]) -> None:
        """Replay every case that concerns these packages in one environment built with uv (records only).

        The summaries and index.html are rebuilt once, by the report session that each of these queues.
        `nox -l --json` shows each session's estimated cost, from the stored records, in its call_spec.
        """
        run_repro(session, MATRIX, combination, session.posargs)

else:

    @nox.session(python=False)
    def repro(session: nox.Session) -> None:
        """versions.toml could not be expanded; this session only reports why."""
        session.error(MATRIX.error)


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Rebuild every summary from the records in reports/records/ (merge records by copying files)."""
    MATRIX.kept.close()  # the repro sessions, which nox ran before this one, are done with their fork workers
    run_harness(session, ["report", *session.posargs])


@nox.session(python=False)
def schemas(session: nox.Session) -> None:
    """Regenerate docs/schema/*.schema.json from the case.toml and versions.toml models."""
    for path in write_schemas(ROOT / "docs" / "schema"):
        session.log(f"wrote {path.relative_to(ROOT)}")


@nox.session(python=False)
def bisect(session: nox.Session) -> None:
    """First bad and first fixed release: nox -s bisect -- CASE PACKAGE [--good V] [--bad V]; 3 if incomplete."""
    run_harness(session, ["bisect", *session.posargs], keep_exit_status=True)


@nox.session(python=False)
def gate(session: nox.Session) -> None:
    """Gate a dependency upgrade: nox -s gate -- --candidate x-transformers==1.43.2 (exit 0/1/2/3)."""
    run_harness(session, ["gate", *session.posargs], keep_exit_status=True)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The test suite; real-world checks with: nox -s tests -- -m realworld."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict over the harness, its tests and this noxfile."""
    session.install("-e", ".[test]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
