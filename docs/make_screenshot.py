"""Render the HTML report for a realistic synthetic run and screenshot it into docs/report-screenshot.png.

Run from the repository root with the harness importable, ``PYTHONPATH=. python docs/make_screenshot.py``;
it needs Debian's ``chromium`` package.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from harness.case import Case, RecordedEnvironment
from harness.outcome import Outcome
from harness.pins import Pin
from harness.process import run
from harness.records import ProbeRecord, ProbeRequest, Timings
from harness.reports.html import render_index, write_index
from harness.signature import Signature

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).resolve().parent
ROWS = ("1.42.20", "1.42.21", "1.43.1", "1.43.2", "2.31.10")
EINOPS = ("0.8.0", "0.8.2")
TORCH = ("2.13.0", "2.14.1")
BAD = {"1.42.21", "1.43.1"}
MESSAGE = (
    ' Error while processing rearrange-reduction pattern "n -> n 1".\n'
    " Input tensor shape: torch.Size([1, 32]). Additional info: {}.\n"
    " Wrong shape: expected 1 dims. Received 2-dim tensor."
)


def example_case() -> Case:
    return Case(
        id="xt-einops-n-n1",
        title="x-transformers: EinopsError for rearrange 'n -> n 1' on a [1, 32] input",
        directory=Path("cases/xt-einops-n-n1"),
        packages=tuple(canonicalize_name(name) for name in ("x-transformers", "einops", "torch")),
        parameters=(("batch", 1), ("dim", 32)),
        signature=Signature("einops.EinopsError", ('"n -> n 1"', "torch.Size([1, 32])")),
        recorded=RecordedEnvironment("3.11", (Pin.of("x-transformers", "1.42.21"),)),
        timeout_seconds=600.0,
        content_hash="5e1f0c9a7b3d2e41",
        upstream="https://github.com/lucidrains/x-transformers/issues",
    )


def traceback_tail(xt: str) -> str:
    site = "/home/ci/.cache/harness/envs/3f2a/lib/python3.11/site-packages"
    line = 2047 if xt.startswith("1.42.") else 2093
    return (
        "Traceback (most recent call last):\n"
        '  File "cases/xt-einops-n-n1/replay.py", line 21, in replay\n'
        "    logits = model(tokens, mask=mask)\n"
        f'  File "{site}/x_transformers/x_transformers.py", line {line}, in forward\n'
        "    pos = rearrange(pos, 'n -> n 1')\n"
        f'  File "{site}/einops/einops.py", line 600, in rearrange\n'
        '    return reduce(tensor, pattern, reduction="rearrange", **axes_lengths)\n'
        f"einops.EinopsError: {MESSAGE}"
    )


def example_records(case: Case) -> list[ProbeRecord]:
    records = []
    minute = 0
    for xt in ROWS:
        for einops in EINOPS:
            for torch in TORCH:
                minute += 3
                pins = (Pin.of("x-transformers", xt), Pin.of("einops", einops), Pin.of("torch", torch))
                request = ProbeRequest(case.id, case.content_hash, case.parameters, pins, "3.11")
                resolved = (*pins, Pin.of("numpy", "2.3.4"), Pin.of("packaging", "25.0"), Pin.of("loguru", "0.7.3"))
                common: dict[str, Any] = {
                    "request": request,
                    "python_full": "3.11.12",
                    "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
                    "started_at": f"2026-11-28T10:{minute:02d}:00+00:00",
                    "environment_id": "env-" + hashlib.sha256(str(pins).encode()).hexdigest()[:10],
                }
                if xt == "2.31.10" and torch == "2.13.0":
                    records.append(
                        ProbeRecord(
                            outcome=Outcome.UNRESOLVABLE,
                            detail="x-transformers==2.31.10 depends on torch>=2.14",
                            installer_message=(
                                "\u00d7 No solution found when resolving dependencies:\n"
                                "  ╰─▶ Because x-transformers==2.31.10 depends on torch>=2.14 and you require "
                                "torch==2.13.0, we can conclude that your requirements are unsatisfiable."
                            ),
                            timings=Timings(resolve=1.4),
                            **common,
                        )
                    )
                elif xt in BAD:
                    records.append(
                        ProbeRecord(
                            outcome=Outcome.REPRODUCED,
                            detail=f"einops.EinopsError: {MESSAGE.strip().splitlines()[0]}",
                            resolved=resolved,
                            error_type="einops.EinopsError",
                            error_message=MESSAGE,
                            traceback_tail=traceback_tail(xt),
                            timings=Timings(resolve=1.1, install=38.2, run=6.4),
                            **common,
                        )
                    )
                else:
                    records.append(
                        ProbeRecord(
                            outcome=Outcome.PASSED,
                            detail="the case ran to completion",
                            resolved=resolved,
                            timings=Timings(resolve=1.0, install=36.9, run=5.8),
                            **common,
                        )
                    )
    return records


def example_bisection() -> dict[str, Any]:
    versions = [f"1.41.{n}" for n in range(0, 6)] + [f"1.42.{n}" for n in range(0, 27)]
    versions += [f"1.43.{n}" for n in range(0, 3)] + [f"1.44.{n}" for n in range(0, 9)]
    versions += [f"2.{minor}.0" for minor in range(0, 31)] + [f"2.31.{n}" for n in range(0, 11)]
    # One release every four days from New Year 2025, so the dates read in order along the timeline.
    releases = [
        {"version": v, "upload_time": (date(2025, 1, 1) + timedelta(days=4 * i)).isoformat() + "T09:00:00Z"}
        for i, v in enumerate(versions)
    ]
    outcomes = {
        "1.41.0": "PASSED",
        "1.42.13": "PASSED",
        "1.42.20": "PASSED",
        "1.42.21": "REPRODUCED",
        "1.42.23": "REPRODUCED",
        "1.43.1": "REPRODUCED",
        "1.42.17": "PASSED",
        "1.43.2": "PASSED",
        "1.44.4": "PASSED",
        "2.15.0": "PASSED",
        "2.31.10": "PASSED",
    }
    reused = {"1.42.20", "1.42.21", "1.43.1", "1.43.2", "2.31.10"}
    probes = [
        {"version": v, "outcome": o, "seconds": 0.0 if v in reused else 44.5 + len(v), "reused": v in reused}
        for v, o in outcomes.items()
    ]
    return {
        "case_id": "xt-einops-n-n1",
        "package": "x-transformers",
        "releases": releases,
        "probes": probes,
        "regression": {"last_good": "1.42.20", "first_bad": "1.42.21", "candidates": []},
        "fix": {"last_bad": "1.43.1", "first_fixed": "1.43.2", "candidates": []},
        "known_bad_range": ">=1.42.21,<1.43.2",
    }


def example_known_bad() -> dict[str, Any]:
    return {
        "schema": 1,
        "ranges": [
            {
                "case_id": "xt-einops-n-n1",
                "package": "x-transformers",
                "specifier": ">=1.42.21,<1.43.2",
                "first_bad": "1.42.21",
                "first_fixed": "1.43.2",
                "found_at": "2026-11-28T11:02:00+00:00",
            }
        ],
    }


def example_page() -> str:
    case = example_case()
    return render_index(
        [case],
        example_records(case),
        [example_bisection()],
        example_known_bad(),
        generated_at="2026-11-28 11:04 UTC",
    )


def screenshot(page: Path, png: Path, *, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        completed = run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                page.as_uri(),
            ],
            timeout=120,
        )
    if not completed.ok or not png.is_file():
        raise SystemExit(f"chromium failed ({completed.returncode}): {completed.output[-2000:]}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE / "report-screenshot.png")
    parser.add_argument("--html", type=Path, help="also keep the rendered page here")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1800)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        page = options.html or Path(folder) / "index.html"
        write_index(page, example_page())
        screenshot(page.resolve(), options.out.resolve(), width=options.width, height=options.height)
    print(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
