"""The HTML report in a real browser: headless Chromium lays out the cells, runs the script, takes a screenshot."""

from __future__ import annotations

import os
import shutil
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from harness.bisection.stored import bisection_from_json
from harness.model.case import Case, RecordedEnvironment
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest, Timings
from harness.model.signature import Signature
from harness.process import Completed, run
from harness.reports.html.page import render_index, write_index
from harness.reports.html.style import OUTCOME_STYLES
from tests.unit.test_html import HOSTILE, Elements

REPO = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
"""The names Chromium goes by on PATH: Debian's package, Ubuntu's, and Google's builds."""
MISSING = f"no headless browser on PATH (tried {', '.join(BROWSERS)}): apt-get install -y chromium"
pytestmark = pytest.mark.integration


def find_browser(path: str | None = None) -> Path | None:
    """The first of BROWSERS found on ``path`` (default: $PATH), or None."""
    return next((Path(found) for name in BROWSERS if (found := shutil.which(name, path=path))), None)


@pytest.fixture(scope="module")
def browser() -> Path:
    """Chromium's path; without one the test skips, except in CI, where a silent skip would hide the gap."""
    found = find_browser()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {MISSING}", pytrace=False)
        pytest.skip(MISSING)
    return found


TABLE = {
    ("1.42.20", "0.8.0", "2.13.0"): Outcome.PASSED,
    ("1.42.20", "0.8.2", "2.14.1"): Outcome.PASSED,
    ("1.42.20", "0.8.2", "2.13.0"): Outcome.TIMEOUT,
    ("1.42.21", "0.8.0", "2.13.0"): Outcome.REPRODUCED,
    ("1.42.21", "0.8.2", "2.14.1"): Outcome.REPRODUCED,
    ("2.31.10", "0.8.0", "2.13.0"): Outcome.UNRESOLVABLE,
    ("2.31.10", "0.8.2", "2.14.1"): Outcome.DIFFERENT_ERROR,
}


def synthetic_page() -> tuple[str, list[ProbeRecord]]:
    case = Case(
        id="xt-einops",
        title="x-transformers: EinopsError for 'n -> n 1'",
        directory=Path("cases/xt-einops"),
        packages=tuple(canonicalize_name(n) for n in ("x-transformers", "einops", "torch")),
        parameters=(("dim", 32),),
        signature=Signature("einops.EinopsError", ("n -> n 1",)),
        recorded=RecordedEnvironment("3.11", ()),
        timeout_seconds=60.0,
        content_hash="h",
    )
    records = []
    for (xt, einops, torch), outcome in TABLE.items():
        pins = (Pin.of("x-transformers", xt), Pin.of("einops", einops), Pin.of("torch", torch))
        records.append(
            ProbeRecord(
                ProbeRequest(case.id, "h", case.parameters, pins, "3.11"),
                outcome,
                HOSTILE if outcome is Outcome.DIFFERENT_ERROR else outcome.value,
                resolved=pins,
                error_type="einops.EinopsError" if outcome is Outcome.REPRODUCED else None,
                traceback_tail=HOSTILE,
                timings=Timings(1.0, 20.0, 3.0),
                started_at="2026-11-28T10:00:00+00:00",
            )
        )
    bisection = {
        "case_id": case.id,
        "package": "x-transformers",
        "releases": [{"version": v, "upload_time": None} for v in ("1.42.20", "1.42.21", "2.31.10")],
        "probes": [
            {"version": "1.42.20", "outcome": "PASSED", "seconds": 30.0, "reused": False},
            {"version": "1.42.21", "outcome": "REPRODUCED", "seconds": 31.0, "reused": False},
        ],
        "regression": {"last_good": "1.42.20", "first_bad": "1.42.21", "candidates": []},
    }
    html = render_index([case], records, [bisection_from_json(bisection)], (), generated_at="2026-11-28 11:00 UTC")
    return html, records


@pytest.fixture
def report(tmp_path: Path) -> Iterator[tuple[Path, list[ProbeRecord]]]:
    html, records = synthetic_page()
    path = tmp_path / "report" / "index.html"
    write_index(path, html)
    yield path, records


def chromium(tmp_path: Path, *arguments: str, browser: Path | None = None) -> Completed:
    """Headless Chromium with the flags a closed network needs (no background connections), as root."""
    browser = browser or find_browser()
    assert browser is not None, MISSING
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    completed = run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        timeout=120,
    )
    assert completed.ok, completed.output[-3000:]
    return completed


def test_the_browser_lays_out_every_cell_at_its_row_and_column(
    browser: Path, tmp_path: Path, report: tuple[Path, list[ProbeRecord]]
) -> None:
    path, _ = report
    dom = chromium(tmp_path, "--dump-dom", path.as_uri(), browser=browser).stdout
    cells = Elements(dom).cells()
    expected: dict[tuple[str, str], str | None] = {
        (xt, f"einops {ei} · torch {to}"): outcome.value for (xt, ei, to), outcome in TABLE.items()
    }
    # Only 1.42.20 was probed with einops 0.8.2 and torch 2.13.0: the other rows show "not probed" there.
    expected |= {(xt, "einops 0.8.2 · torch 2.13.0"): None for xt in ("1.42.21", "2.31.10")}
    assert cells == expected
    # The hostile message is text in the live DOM, not an element.
    elements = Elements(dom)
    assert [tag for tag, _ in elements.tags].count("script") == 1
    assert HOSTILE in "".join(elements.text)


def test_the_page_script_runs_under_its_policy_and_opens_the_linked_probe(
    browser: Path, tmp_path: Path, report: tuple[Path, list[ProbeRecord]]
) -> None:
    path, records = report
    target = records[2]
    dom = chromium(tmp_path, "--dump-dom", f"{path.as_uri()}#probe-{target.key}", browser=browser).stdout
    details = {str(a["id"]): "open" in a for tag, a in Elements(dom).tags if tag == "details"}
    assert details[f"probe-{target.key}"] is True
    assert sum(details.values()) == 1


def png_pixels(data: bytes) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of colours of an 8-bit RGB(A) PNG, as Chromium writes them."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0) and colour_type in (2, 6)
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    colours: set[tuple[int, int, int]] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        colours.update((line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels))
        previous = line
    return width, height, colours


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_the_screenshot_shows_the_outcome_colours(
    browser: Path, tmp_path: Path, report: tuple[Path, list[ProbeRecord]]
) -> None:
    path, _ = report
    png = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,1600", path.as_uri(), browser=browser)
    assert png.is_file()
    assert png.stat().st_size > 20_000
    width, height, colours = png_pixels(png.read_bytes())
    assert (width, height) == (1280, 1600)
    for outcome in set(TABLE.values()):
        assert rgb(OUTCOME_STYLES[outcome].colour) in colours, outcome


def test_the_browser_is_found_on_path_under_any_of_its_names(tmp_path: Path) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    assert find_browser(str(folder)) is None
    fake = folder / "google-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_browser(str(folder)) == fake
    (folder / "chromium-browser").write_text("#!/bin/sh\n")
    (folder / "chromium-browser").chmod(0o755)
    assert find_browser(f"{tmp_path / 'empty'}{os.pathsep}{folder}") == folder / "chromium-browser"


@pytest.mark.parametrize(("ci", "status", "line"), [("true", 1, f"CI=true and {MISSING}"), ("", 0, "skipped")])
def test_without_a_browser_ci_fails_in_one_line_and_elsewhere_skips(
    tmp_path: Path, ci: str, status: int, line: str
) -> None:
    """The browser tests themselves, run where PATH holds no browser: CI must not pass them by skipping."""
    empty = tmp_path / "no-browser"
    empty.mkdir()
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | {"PATH": str(empty), "CI": ci}
    node = f"{Path(__file__).relative_to(REPO)}::test_the_page_script_runs_under_its_policy_and_opens_the_linked_probe"
    completed = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node], cwd=REPO, env=environ, timeout=120
    )
    assert completed.returncode == status, completed.output
    assert line in completed.stdout
    if ci:
        assert completed.stdout.count(MISSING) == 2  # the error itself and its line in the short summary
