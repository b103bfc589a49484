"""Reproducer export: the install command, the standalone script, the fences and the bisection verdict."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from harness.bisection.stored import bisection_from_json
from harness.model.case import Case, Parameters, RecordedEnvironment
from harness.model.outcome import Outcome
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord, ProbeRequest
from harness.model.signature import ParamValue, Signature
from harness.reports.export import (
    bisection_verdict,
    fence_for,
    install_command_for,
    render_bug_report,
    replay_call,
    standalone_script,
)

REPLAY = '''"""Replay."""

CALLS = []


def replay(**parameters):
    CALLS.append(parameters)
'''

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "replay.py", line 9, in replay\n'
    "    rearrange(x, 'n -> n 1')\n"
    'einops.EinopsError:  Error while processing rearrange-reduction pattern "n -> n 1".\n'
    " Input tensor shape: torch.Size([1, 32])."
)


def make_case() -> Case:
    return Case(
        id="xt-einops",
        title="x-transformers: EinopsError for 'n -> n 1'",
        directory=Path("cases/xt-einops"),
        packages=tuple(canonicalize_name(n) for n in ("x-transformers", "einops", "torch")),
        parameters=(("dim", 32),),
        signature=Signature("einops.EinopsError"),
        recorded=RecordedEnvironment("3.11", ()),
        timeout_seconds=60.0,
        content_hash="h",
        upstream="https://github.com/lucidrains/x-transformers/issues",
    )


def make_record(
    *, parameters: Parameters = (("dim", 32),), sources: dict[str, Any] | None = None, **fields: Any
) -> ProbeRecord:
    pins = (Pin.of("x-transformers", "1.42.21"), Pin.of("einops", "0.8.0"), Pin.of("torch", "2.13.0"))
    request = ProbeRequest("xt-einops", "h", parameters, tuple(sorted(pins)), "3.11")
    defaults: dict[str, Any] = {
        "detail": "einops.EinopsError: Error while processing",
        "resolved": (*pins, Pin.of("numpy", "2.1.0")),
        "error_type": "einops.EinopsError",
        "error_message": 'Error while processing rearrange-reduction pattern "n -> n 1".',
        "traceback_tail": TRACEBACK,
        "python_full": "3.11.12",
        "platform": "Linux-6.1-x86_64",
        "started_at": "2026-11-28T10:00:00+00:00",
        "sources": sources or {},
    }
    return ProbeRecord(request, Outcome.REPRODUCED, **(defaults | fields))


FULL = {
    "package": "x-transformers",
    "regression": {"last_good": "1.42.20", "first_bad": "1.42.21", "candidates": []},
    "fix": {"last_bad": "1.43.1", "first_fixed": "1.43.2", "candidates": []},
}


@pytest.mark.parametrize(
    ("bisection", "expected"),
    [
        (FULL, "introduced in 1.42.21 (1.42.20 last good); fixed in 1.43.2"),
        ({"regression": {"first_bad": "1.0"}}, "introduced in 1.0 (bad in the earliest release tested)"),
        (
            {"regression": {"last_good": "1.0", "candidates": ["1.1", "1.2"]}},
            "introduced in one of 1.1, 1.2 (after 1.0)",
        ),
        ({"fix": {"last_bad": "2.0"}}, "not fixed as of 2.0"),
        ({"fix": {"last_bad": "2.0", "candidates": ["2.1"]}}, "fixed in one of 2.1"),
        ({"regression": {"first_bad": "1.1", "last_good": "1.0"}, "fix": None}, "introduced in 1.1 (1.0 last good)"),
        ({}, None),
        ({"regression": "garbage", "fix": ["x"]}, None),
        ({"regression": {"first_bad": "", "candidates": "1.1"}}, None),
    ],
)
def test_bisection_verdict(bisection: dict[str, Any], expected: str | None) -> None:
    assert bisection_verdict(bisection_from_json(bisection)) == expected


def test_install_command_puts_the_case_packages_first_and_quotes_every_requirement() -> None:
    command = install_command_for(make_record(), order=("x-transformers", "einops", "torch"))
    assert command == "pip install 'x-transformers==1.42.21' 'einops==0.8.0' 'torch==2.13.0'"
    assert install_command_for(make_record()) == "pip install 'einops==0.8.0' 'torch==2.13.0' 'x-transformers==1.42.21'"


def test_install_command_adds_extra_requirements_and_package_indexes_without_credentials() -> None:
    sources = {
        "index_url": "https://mirror.corp.example/simple",
        "package_indexes": {
            "torch": "https://user:secret@download.pytorch.org/whl/cpu",
            "other": "file:///home/me/wheels",
        },
    }
    command = install_command_for(make_record(sources=sources), order=("torch",), extra_requirements=("numpy<2",))
    words = shlex.split(command)
    assert words[:3] == ["pip", "install", "torch==2.13.0"]
    assert "numpy<2" in words
    assert words[-2:] == ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]
    assert "secret" not in command
    assert "mirror.corp" not in command
    assert "file:" not in command


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "```"), ("plain", "```"), ("a `b` c", "```"), ("``` inside", "````"), ("x ````` y ``", "``````")],
)
def test_fence_is_longer_than_any_backtick_run(text: str, expected: str) -> None:
    assert fence_for(text) == expected


def run_script(script: str) -> list[dict[str, ParamValue]]:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(script, "repro.py", "exec"), namespace)
    calls: list[dict[str, ParamValue]] = namespace["CALLS"]
    return calls


@pytest.mark.parametrize(
    "parameters",
    [
        (),
        (("dim", 32),),
        (("flag", True), ("ratio", 0.5), ("shape", 'it\'s "quoted"')),
        (("big", float("inf")), ("class", "keyword"), ("not-an-identifier", 1)),
    ],
)
def test_the_standalone_script_calls_replay_with_the_record_parameters(parameters: Parameters) -> None:
    script = standalone_script(REPLAY, parameters)
    assert run_script(script) == [dict(parameters)]


@pytest.mark.parametrize("quote", ["'", '"'])
def test_a_replay_that_runs_itself_is_left_alone(quote: str) -> None:
    source = REPLAY + f"\n\nif __name__ == {quote}__main__{quote}:\n    replay(dim=1)\n"
    script = standalone_script(source, (("dim", 32),))
    assert script == source
    assert run_script(script) == [{"dim": 1}]


def test_replay_call_text() -> None:
    assert replay_call((("dim", 32), ("pattern", "n -> n 1"))) == "replay(dim=32, pattern='n -> n 1')"
    assert replay_call((("a-b", 1),)) == "replay(**{'a-b': 1})"


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(info string, body) of each fenced block, honouring fence length as CommonMark does."""
    blocks = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^(`{3,})(.*)$", lines[index])
        if not opening:
            index += 1
            continue
        fence, info = opening.groups()
        end = next(i for i in range(index + 1, len(lines)) if re.fullmatch(f"`{{{len(fence)},}}", lines[i].strip()))
        blocks.append((info, "\n".join(lines[index + 1 : end])))
        index = end + 1
    return blocks


def report(**record_fields: Any) -> str:
    record = make_record(**record_fields)
    return render_bug_report(
        make_case(),
        record,
        replay_source=REPLAY,
        install_command=install_command_for(record, order=make_case().packages),
        bisection=bisection_from_json(FULL),
    )


def test_the_report_has_title_steps_traceback_environment_and_verdict() -> None:
    markdown = report()
    assert markdown.splitlines()[0] == "# x-transformers: EinopsError for 'n -> n 1'"
    blocks = dict(fenced_blocks(markdown))
    assert blocks["sh"] == "pip install 'x-transformers==1.42.21' 'einops==0.8.0' 'torch==2.13.0'\npython repro.py"
    assert run_script(blocks["python"]) == [{"dim": 32}]
    assert blocks["text"] == TRACEBACK
    assert "**Bisection (x-transformers):** introduced in 1.42.21 (1.42.20 last good); fixed in 1.43.2." in markdown
    for row in ("| **x-transformers** | 1.42.21 |", "| numpy | 2.1.0 |", "| Python | 3.11.12 |"):
        assert row in markdown
    assert "| platform | Linux-6.1-x86_64 |" in markdown


def test_backticks_in_the_traceback_cannot_close_its_fence() -> None:
    tail = TRACEBACK + "\n```\n# not a heading\n`````"
    blocks = fenced_blocks(report(traceback_tail=tail))
    assert ("text", tail) in blocks


def test_the_error_line_is_added_when_the_tail_lost_it() -> None:
    blocks = dict(fenced_blocks(report(traceback_tail='  File "x.py", line 1\n    f()')))
    assert (
        blocks["text"].splitlines()[-1]
        == 'einops.EinopsError: Error while processing rearrange-reduction pattern "n -> n 1".'
    )


def test_without_an_error_the_report_shows_the_installer_message() -> None:
    markdown = report(error_type=None, error_message=None, traceback_tail=None, installer_message="No solution found")
    assert dict(fenced_blocks(markdown))["text"] == "No solution found"


def test_without_a_bisection_no_verdict_line_is_written() -> None:
    record = make_record()
    markdown = render_bug_report(make_case(), record, replay_source=REPLAY, install_command="pip x", bisection=None)
    assert "Bisection" not in markdown
    assert record.key in markdown
