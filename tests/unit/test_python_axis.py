"""The Python axis beyond versions.toml: each probe asks for its combination's Python, and the summaries and
the HTML page show Python as an axis once the records span several."""

from __future__ import annotations

from pathlib import Path

from harness.model.matrix import expand, parse_matrix
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest
from harness.reports.html.page import render_index
from harness.reports.summary import column_label, python_pin, summarize, summary_to_json, summary_to_markdown
from harness.repro.plan import missing_python_record, plan
from harness.sources import PackageSources
from harness.workspace import Workspace, make_prober
from tests.unit.test_html import Elements
from tests.unit.test_summary_and_store import CASE


def record(pkg: str, python: str, outcome: Outcome) -> ProbeRecord:
    pins = (Pin.of("fakepkg", pkg), Pin.of("fakedep", "2.0"))
    return ProbeRecord(ProbeRequest("demo", "h1", (("n", 3),), pins, python), outcome, outcome.value)


def test_each_probe_asks_for_its_combinations_python(tmp_path: Path) -> None:
    spec = parse_matrix({"python": ["3.11", "3.12"], "packages": {"fakepkg": {"versions": ["1.3"]}}})
    prober = make_prober(Workspace(tmp_path), spec, PackageSources(), fresh=False, mode="isolated")
    planned = plan([CASE], expand(spec, {}).combinations, prober)
    assert [(item.combination.label, item.request.python) for item in planned] == [
        ("python=3.11,fakepkg==1.3", "3.11"),
        ("python=3.12,fakepkg==1.3", "3.12"),
    ]
    assert planned[0].request.key != planned[1].request.key


def test_a_missing_python_is_recorded_as_install_failed_with_uvs_reason() -> None:
    request = record("1.3", "3.9", Outcome.PASSED).request
    made = missing_python_record(request, {"index_url": None}, "No interpreter found for Python 3.9")
    assert made.outcome is Outcome.INSTALL_FAILED
    assert made.detail == "no Python 3.9 on this machine"
    assert made.installer_message == "No interpreter found for Python 3.9"
    assert made.key == request.key and made.started_at


def test_records_of_several_pythons_make_python_the_first_column_axis() -> None:
    records = [
        record("1.3", "3.11", Outcome.PASSED),
        record("1.3", "3.12", Outcome.REPRODUCED),
        record("1.5", "3.11", Outcome.REPRODUCED),
    ]
    summary = summarize(CASE, records)
    assert summary.column_packages == ("python", "fakedep")
    assert [column_label(column) for column in summary.columns] == [
        "python 3.11 · fakedep 2.0",
        "python 3.12 · fakedep 2.0",
    ]
    cells = {(c["row"], tuple(c["column"])): c["outcome"] for c in summary_to_json(summary)["cells"]}
    assert cells == {
        ("1.3", ("3.11", "2.0")): "PASSED",
        ("1.3", ("3.12", "2.0")): "REPRODUCED",
        ("1.5", ("3.11", "2.0")): "REPRODUCED",
    }
    assert "| fakepkg | python 3.11 · fakedep 2.0 | python 3.12 · fakedep 2.0 |" in summary_to_markdown(summary)
    html = render_index([CASE], records, [], (), generated_at="2026-12-01")
    assert Elements(html).cells() == {
        ("1.3", "python 3.11 · fakedep 2.0"): "PASSED",
        ("1.3", "python 3.12 · fakedep 2.0"): "REPRODUCED",
        ("1.5", "python 3.11 · fakedep 2.0"): "REPRODUCED",
        ("1.5", "python 3.12 · fakedep 2.0"): None,
    }


def test_records_of_one_python_show_no_python_axis() -> None:
    summary = summarize(CASE, [record("1.3", "3.12", Outcome.PASSED), record("1.5", "3.12", Outcome.PASSED)])
    assert summary.column_packages == ("fakedep",)
    assert [column_label(column) for column in summary.columns] == ["fakedep 2.0"]


def test_a_python_request_that_is_no_version_keeps_a_column_of_its_own() -> None:
    assert str(python_pin("3.12").version) == "3.12"
    assert python_pin("pypy3.10") != python_pin("cpython3.10")
    assert python_pin("pypy3.10").name == "python"
