"""The HTML report in a real browser: headless Chromium lays out the cells, runs the script, takes a screenshot."""

from __future__ import annotations

import struct
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

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="headless browser test needs Debian's chromium: apt-get install -y chromium"
    ),
]

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


def chromium(tmp_path: Path, *arguments: str) -> Completed:
    """Headless Chromium with the flags a closed network needs (no background connections), as root."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
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
            f"--user-data-dir={profile}",
            *arguments,
        ],
        timeout=120,
    )
    assert completed.ok, completed.output[-3000:]
    return completed


def test_the_browser_lays_out_every_cell_at_its_row_and_column(
    tmp_path: Path, report: tuple[Path, list[ProbeRecord]]
) -> None:
    path, _ = report
    dom = chromium(tmp_path, "--dump-dom", path.as_uri()).stdout
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
    tmp_path: Path, report: tuple[Path, list[ProbeRecord]]
) -> None:
    path, records = report
    target = records[2]
    dom = chromium(tmp_path, "--dump-dom", f"{path.as_uri()}#probe-{target.key}").stdout
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


def test_the_screenshot_shows_the_outcome_colours(tmp_path: Path, report: tuple[Path, list[ProbeRecord]]) -> None:
    path, _ = report
    png = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,1600", path.as_uri())
    assert png.is_file()
    assert png.stat().st_size > 20_000
    width, height, colours = png_pixels(png.read_bytes())
    assert (width, height) == (1280, 1600)
    for outcome in set(TABLE.values()):
        assert rgb(OUTCOME_STYLES[outcome].colour) in colours, outcome
