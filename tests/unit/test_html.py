"""The HTML report: cells per row and column, newest records, bisection marks, escaping, self-containment."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from harness.bisection.stored import StoredBisection, bisection_from_json
from harness.model.case import Case, Parameters, RecordedEnvironment
from harness.model.known_bad import KnownBadRange, known_bad_from_json
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest, Timings
from harness.model.signature import Signature
from harness.reports.html.page import render_index, write_index
from harness.reports.html.style import CELL_TEXT, OUTCOME_STYLES
from harness.reports.site import read_bisections, read_known_bad
from harness.reports.summary import latest_per_request as latest_records

HOSTILE = "</pre><script>alert(1)</script>"


def make_case(case_id: str = "xt", *, title: str = "a case", upstream: str | None = None) -> Case:
    return Case(
        id=case_id,
        title=title,
        directory=Path("cases") / case_id,
        packages=tuple(canonicalize_name(n) for n in ("x-transformers", "einops", "torch")),
        parameters=(("dim", 32),),
        signature=Signature("einops.EinopsError", ("n -> n 1",)),
        recorded=RecordedEnvironment("3.11", ()),
        timeout_seconds=60.0,
        content_hash="h",
        upstream=upstream,
    )


def make_record(
    pins: Mapping[str, str],
    outcome: Outcome,
    *,
    case_id: str = "xt",
    started_at: str = "2026-01-01T00:00:00+00:00",
    parameters: Parameters = (("dim", 32),),
    detail: str = "",
    **fields: Any,
) -> ProbeRecord:
    request = ProbeRequest(
        case_id=case_id,
        case_hash="h",
        parameters=parameters,
        pins=tuple(Pin.of(name, version) for name, version in pins.items()),
        python="3.11",
    )
    return ProbeRecord(request, outcome, detail or outcome.value.lower(), started_at=started_at, **fields)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text, for assertions that do not depend on layout."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.script_text: list[str] = []
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.script_text if self._in_script else self.text).append(data)

    def with_attribute(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for _, attrs in self.tags if name in attrs]

    def cells(self) -> dict[tuple[str, str], str | None]:
        return {
            (str(a["data-row"]), str(a["data-column"])): a.get("data-outcome") for a in self.with_attribute("data-row")
        }


def page(
    records: Sequence[ProbeRecord],
    *,
    cases: Sequence[Case] | None = None,
    bisections: Sequence[Mapping[str, Any]] = (),
    known_bad: Mapping[str, Any] | None = None,
) -> str:
    return render_index(
        [make_case()] if cases is None else cases,
        records,
        decoded(bisections),
        known_bad_from_json(known_bad) if known_bad else (),
        generated_at="2026-11-29",
    )


def decoded(bisections: Sequence[Mapping[str, Any]]) -> list[StoredBisection]:
    """The pages see bisection files as the site reads them: through the codec."""
    return [bisection_from_json(data) for data in bisections]


OUTCOME_TABLE = {
    ("1.42.20", "0.8.0", "2.13.0"): Outcome.PASSED,
    ("1.42.20", "0.8.2", "2.14.1"): Outcome.DIFFERENT_ERROR,
    ("1.42.21", "0.8.0", "2.13.0"): Outcome.REPRODUCED,
    ("1.42.21", "0.8.2", "2.14.1"): Outcome.TIMEOUT,
    ("2.31.10", "0.8.0", "2.13.0"): Outcome.UNRESOLVABLE,
}


def test_each_cell_sits_at_its_row_and_column_with_its_outcome() -> None:
    records = [
        make_record({"x-transformers": xt, "einops": ei, "torch": to}, outcome)
        for (xt, ei, to), outcome in OUTCOME_TABLE.items()
    ]
    cells = Elements(page(records)).cells()
    expected: dict[tuple[str, str], str | None] = {
        (xt, f"einops {ei} · torch {to}"): outcome.value for (xt, ei, to), outcome in OUTCOME_TABLE.items()
    }
    # The one combination nobody probed is a visible "not probed" cell without an outcome.
    expected[("2.31.10", "einops 0.8.2 · torch 2.14.1")] = None
    assert cells == expected


def test_rows_follow_version_order_not_text_order() -> None:
    records = [
        make_record({"x-transformers": v, "einops": "0.8.0"}, Outcome.PASSED) for v in ("1.10.0", "1.9.0", "1.2")
    ]
    rows = [str(a["data-row"]) for a in Elements(page(records)).with_attribute("data-row")]
    assert rows == ["1.2", "1.9.0", "1.10.0"]


def test_every_cell_links_to_the_details_of_its_probe() -> None:
    record = make_record({"x-transformers": "1.0", "einops": "0.8.0"}, Outcome.REPRODUCED, traceback_tail="tb here")
    elements = Elements(page([record]))
    links = [str(a["href"]) for tag, a in elements.tags if tag == "a" and str(a.get("href", "")).startswith("#probe")]
    details = [a for tag, a in elements.tags if tag == "details"]
    assert links == [f"#probe-{record.key}"]
    assert [d["id"] for d in details] == [f"probe-{record.key}"]


@pytest.mark.parametrize(
    ("older", "newer", "expected"),
    [
        ("2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00", Outcome.PASSED),
        ("2026-01-01T10:00:00+02:00", "2026-01-01T09:00:00+00:00", Outcome.PASSED),  # 08:00Z before 09:00Z
        ("", "2026-01-01T00:00:00", Outcome.PASSED),  # an unknown start time loses to any known one
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", Outcome.PASSED),  # a tie: the later record wins
    ],
)
def test_the_newest_record_of_the_same_probe_wins(older: str, newer: str, expected: Outcome) -> None:
    pins = {"x-transformers": "1.0", "einops": "0.8.0"}
    first = make_record(pins, Outcome.REPRODUCED, started_at=older)
    second = make_record(pins, Outcome.PASSED, started_at=newer)
    for records in ([first, second], [second, first]) if older != newer else ([first, second],):
        assert [r.outcome for r in latest_records(records)] == [expected]
        assert list(Elements(page(records)).cells().values()) == [expected.value]


def test_records_differing_in_parameters_are_not_merged_but_shown_in_separate_matrices() -> None:
    pins = {"x-transformers": "1.0", "einops": "0.8.0"}
    records = [
        make_record(pins, Outcome.REPRODUCED, parameters=(("dim", 32),)),
        make_record(pins, Outcome.PASSED, parameters=(("dim", 64),)),
    ]
    assert len(latest_records(records)) == 2
    elements = Elements(page(records))
    assert sorted(str(a.get("data-outcome")) for a in elements.with_attribute("data-row")) == ["PASSED", "REPRODUCED"]
    text = "".join(elements.text)
    assert "parameters: dim=32" in text
    assert "parameters: dim=64" in text


def bisection(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_id": "xt",
        "package": "x-transformers",
        "releases": [{"version": v, "upload_time": None} for v in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5")],
        "probes": [
            {"version": "1.0", "outcome": "PASSED", "seconds": 3.0, "reused": False},
            {"version": "1.1", "outcome": "REPRODUCED", "seconds": 4.0, "reused": True},
            {"version": "1.2", "outcome": "REPRODUCED", "seconds": 5.0, "reused": False},
            {"version": "1.3", "outcome": "PASSED", "seconds": 6.0, "reused": False},
        ],
        "regression": {"last_good": "1.0", "first_bad": "1.1", "candidates": []},
        "fix": {"last_bad": "1.2", "first_fixed": "1.3", "candidates": []},
        "known_bad_range": ">=1.1,<1.3",
    }
    data.update(overrides)
    return data


def timeline(elements: Elements) -> dict[str, str | None]:
    return {str(a["data-version"]): a.get("data-outcome") for a in elements.with_attribute("data-version")}


def test_the_timeline_colours_each_release_by_its_probe_and_marks_the_boundaries() -> None:
    html = page([], bisections=[bisection()])
    assert timeline(Elements(html)) == {
        "1.0": "PASSED",
        "1.1": "REPRODUCED",
        "1.2": "REPRODUCED",
        "1.3": "PASSED",
        "1.4": None,
        "1.5": None,
    }
    release = {
        m.group(1): m.group(0) for m in re.finditer(r'<li class="release[^>]*data-version="([^"]+)".*?</li>', html)
    }
    for version, flag in (("1.0", "last good"), ("1.1", "first bad"), ("1.2", "last bad"), ("1.3", "first fixed")):
        assert f'<span class="flag">{flag}</span>' in release[version]
    assert "boundary" in release["1.1"].split(">")[0]
    assert "boundary" in release["1.3"].split(">")[0]
    assert "flag" not in release["1.5"]
    assert "introduced in 1.1 (1.0 last good); fixed in 1.3" in html
    assert "x-transformers&gt;=1.1,&lt;1.3" in html


def test_long_runs_of_unprobed_releases_fold_into_one_chip_but_candidates_stay_visible() -> None:
    versions = [f"1.{n}" for n in range(20)]
    data = bisection(
        releases=[{"version": v} for v in versions],
        probes=[{"version": "1.0", "outcome": "PASSED"}, {"version": "1.19", "outcome": "REPRODUCED"}],
        regression={"last_good": "1.0", "first_bad": None, "candidates": ["1.10"]},
        fix={},
    )
    html = page([], bisections=[data])
    assert list(timeline(Elements(html))) == ["1.0", "1.10", "1.19"]
    assert html.count("releases not probed") == 2
    assert "… 9 releases not probed …" in html
    assert "… 8 releases not probed …" in html
    assert re.search(r'class="release unprobed candidate"[^>]*data-version="1.10"', html)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"case_id": "xt"},
        {"case_id": "xt", "releases": None, "probes": "nonsense", "regression": [], "fix": None},
        {"case_id": "xt", "probes": [{"version": "2.0", "outcome": "WEIRD"}, {"outcome": "PASSED"}]},
    ],
)
def test_a_bisection_result_with_missing_or_odd_keys_still_renders(data: Mapping[str, Any]) -> None:
    html = page([], bisections=[data])
    assert html.startswith("<!DOCTYPE html>")
    if data.get("probes") and isinstance(data["probes"], list):
        assert timeline(Elements(html)) == {"2.0": "WEIRD"}


def test_known_bad_ranges_appear_with_their_case_and_ranges_of_unknown_cases_still_show() -> None:
    known = {
        "schema": 1,
        "ranges": [
            {"case_id": "xt", "package": "x-transformers", "specifier": ">=1.42.21,<1.43.2", "first_bad": "1.42.21"},
            {"case_id": "gone", "package": "einops", "specifier": "==0.9.0"},
        ],
    }
    html = page([], known_bad=known)
    xt = html[html.index('id="case-xt"') : html.index('id="case-gone"')]
    gone = html[html.index('id="case-gone"') :]
    assert "&gt;=1.42.21,&lt;1.43.2" in xt
    assert "==0.9.0" not in xt
    assert "==0.9.0" in gone


def test_records_of_a_case_not_given_are_shown_under_their_case_id() -> None:
    record = make_record({"einops": "0.8.0", "torch": "2.0"}, Outcome.CRASHED, case_id="old-case")
    elements = Elements(page([record]))
    assert any(a.get("id") == "case-old-case" for _, a in elements.tags)
    assert elements.cells() == {("0.8.0", "torch 2.0"): "CRASHED"}


def test_an_empty_report_still_renders() -> None:
    html = render_index([], [], [], (), generated_at="now")
    assert "No cases and no probe records yet." in html


def hostile_page() -> str:
    record = make_record(
        {"x-transformers": "1.0", "einops": "0.8.0"},
        Outcome.DIFFERENT_ERROR,
        detail=HOSTILE,
        error_type=HOSTILE,
        error_message=HOSTILE,
        traceback_tail=HOSTILE,
        installer_message=HOSTILE,
        platform=HOSTILE,
        parameters=(("p", HOSTILE),),
        mode=HOSTILE,
    )
    case = make_case(title=HOSTILE, upstream="javascript:alert(1)")
    # A specifier cannot hold markup once it is a SpecifierSet; the package name and the date still can.
    known = (KnownBadRange("xt", canonicalize_name(HOSTILE), SpecifierSet(">=1"), None, None, found_at=HOSTILE),)
    return render_index(
        [case],
        [record],
        decoded(
            [
                bisection(
                    package=HOSTILE, known_bad_range=HOSTILE, releases=[{"version": HOSTILE, "upload_time": HOSTILE}]
                )
            ]
        ),
        known,
        generated_at=HOSTILE,
    )


def test_text_from_cases_records_and_results_is_escaped() -> None:
    html = hostile_page()
    assert "<script>alert(1)" not in html
    assert "</pre><script>" not in html
    assert html.count("<script>") == 1
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The text still reaches the reader, just as text.
    assert HOSTILE in "".join(Elements(html).text)


def test_only_web_links_become_links() -> None:
    assert 'href="javascript:' not in hostile_page()
    html = page([], cases=[make_case(upstream="https://example.org/issues/1?a=1&b=2")])
    assert '<a href="https://example.org/issues/1?a=1&amp;b=2"' in html


def test_the_page_loads_nothing_from_elsewhere() -> None:
    html = page([], cases=[make_case(upstream="https://example.org/issue")])
    elements = Elements(html)
    assert not [a for tag, a in elements.tags if "src" in a or tag in ("link", "iframe", "img", "object")]
    assert "@import" not in html
    assert "url(" not in html
    hrefs = [str(a["href"]) for _, a in elements.tags if "href" in a]
    assert [h for h in hrefs if not h.startswith("#")] == ["https://example.org/issue"]


def test_the_content_security_policy_admits_exactly_the_page_script() -> None:
    elements = Elements(page([]))
    policy = next(str(a["content"]) for tag, a in elements.tags if a.get("http-equiv") == "Content-Security-Policy")
    script = "".join(elements.script_text)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy


def relative_luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("outcome", list(Outcome))
def test_cell_text_is_readable_on_every_outcome_colour(outcome: Outcome) -> None:
    lighter, darker = sorted((relative_luminance(OUTCOME_STYLES[outcome].colour), relative_luminance(CELL_TEXT)))
    assert (darker + 0.05) / (lighter + 0.05) >= 4.5  # WCAG AA for normal text


def test_outcomes_sharing_a_colour_differ_in_pattern_and_every_label_is_distinct() -> None:
    styles = list(OUTCOME_STYLES.values())
    assert len({(s.colour, s.hatched) for s in styles}) == len(styles)
    assert len({s.label for s in styles}) == len(styles)
    assert set(OUTCOME_STYLES) == set(Outcome)


def test_write_index_replaces_the_file_whole_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "index.html"
    write_index(target, "old")
    write_index(target, "<p>new</p>")
    assert target.read_text(encoding="utf-8") == "<p>new</p>"
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]


def test_timings_and_resolved_environment_are_in_the_probe_details() -> None:
    record = make_record(
        {"x-transformers": "1.0", "einops": "0.8.0"},
        Outcome.REPRODUCED,
        resolved=(Pin.of("x-transformers", "1.0"), Pin.of("einops", "0.8.0"), Pin.of("numpy", "2.1.0")),
        timings=Timings(resolve=1.5, install=20.0, run=3.25),
        mode="shared",
    )
    text = " ".join(Elements(page([record])).text)
    assert "resolve 1.5s · install 20.0s · run 3.2s · total 24.8s" in text
    assert "numpy" in text
    assert "2.1.0" in text
    assert "shared" in text
    assert record.key in text


def test_report_files_that_cannot_be_read_are_named_and_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, torn, foreign = tmp_path / "good.json", tmp_path / "torn.json", tmp_path / "foreign.json"
    good.write_text('{"schema": 1, "kind": "bisection", "case_id": "xt", "package": "einops"}')
    torn.write_text('{"schema": 1, "case')
    foreign.write_text('{"schema": 7}')
    assert [b.case_id for b in read_bisections([good, torn, foreign])] == ["xt"]
    messages = capsys.readouterr().err.splitlines()
    assert messages == [
        f"skipped {torn}: not a readable JSON object",
        f"skipped {foreign}: bisection report schema 7 is not supported (expected 1)",
    ]
    known_bad = tmp_path / "known-bad.json"
    assert read_known_bad(known_bad) == ()
    assert capsys.readouterr().err == ""
    known_bad.write_text('{"schema": 1, "ranges": [{"case_id": "xt", "package": "einops", "specifier": ">>1"}]}')
    assert read_known_bad(known_bad) == ()
    assert capsys.readouterr().err.startswith(f"skipped {known_bad}: {known_bad}: field 'ranges[0].specifier'")
