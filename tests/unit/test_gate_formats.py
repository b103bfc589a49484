"""Gate output formats: JUnit read back by a real consumer, Markdown, annotations, and hostile text in each."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from junitparser import Error, Failure, JUnitXml, TestCase, TestSuite

from harness.gate.acknowledgements import Acknowledgement
from harness.gate.formats import (
    FORMATTERS,
    escape_workflow_data,
    escape_workflow_property,
    github_annotations,
    human_summary,
    junit_xml,
    markdown_summary,
)
from harness.gate.policy import (
    GateDecision,
    LiveResult,
    decide,
    static_findings,
    usage_decision,
)
from harness.markdown import inline, visible
from harness.model.known_bad import KnownBadRange
from harness.model.outcome import Outcome
from harness.model.pins import Pin

TODAY = datetime.date(2026, 12, 1)
BAD = (Pin.of("einops", "0.8.0"), Pin.of("x-transformers", "1.43.1"))
GOOD = (Pin.of("einops", "0.8.0"), Pin.of("x-transformers", "1.43.2"))
RANGE = KnownBadRange.between("rotary", "x-transformers", "1.42.21", "1.43.2")

HOSTILE = [
    "::set-output name=x::1",
    "\n::error title=owned::pwned\r\n::add-mask::secret",
    "</details><script>alert(1)</script>",
    "| a | b |",
    "# heading\n## another",
    "`code` and ``` fence",
    "[click](https://evil.example) ![img](x)",
    "100% done %0A::warning::x %25",
    "a:b,c=d",
    "*bold* _em_ ~~strike~~ $x^2$ \\ backslash",
    "control \x00 \x1b[31mred\x1b[0m \x07 bell \ud800 surrogate \u202e bidi",
    "- list\n1. ordered\n> quote",
    "quote \" and ' & ampersand &amp;",
]


def result(
    case_id: str,
    outcome: Outcome,
    env: tuple[Pin, ...] = BAD,
    *,
    error_type: str | None = None,
    message: str | None = None,
    detail: str = "detail",
    title: str = "a case",
) -> LiveResult:
    return LiveResult(case_id, title, env, outcome, detail, error_type, message, f"key-{case_id}")


def mixed_decision() -> GateDecision:
    """2 failures (one static, one reproduced), 2 errors (undecided), 1 acknowledged, 2 passes."""
    live = (
        result("rotary", Outcome.REPRODUCED, error_type="einops.EinopsError", message="Error while processing"),
        result("timeouts", Outcome.TIMEOUT, detail="did not finish"),
        result("different", Outcome.DIFFERENT_ERROR, error_type="ValueError", message="other"),
        result("accepted", Outcome.REPRODUCED, error_type="E", message="known"),
        result("fine", Outcome.PASSED, GOOD),
        result("fine2", Outcome.PASSED, GOOD),
    )
    acks = (Acknowledgement("accepted", datetime.date(2027, 1, 31), "waiting for upstream fix"),)
    return decide(static_findings(BAD, (RANGE,)), live, acks, TODAY)


def hostile_decision(text: str) -> GateDecision:
    live = (
        result(
            "hostile",
            Outcome.REPRODUCED,
            error_type=f"Err{text}",
            message=text,
            detail=f"detail {text}",
            title=f"title {text}",
        ),
        result("hostile-undecided", Outcome.INSTALL_FAILED, detail=text),
        result("hostile-accepted", Outcome.REPRODUCED, message=text),
    )
    acks = (Acknowledgement("hostile-accepted", datetime.date(2027, 1, 1), f"reason {text}"),)
    return decide((), live, acks, TODAY)


# --- JUnit --------------------------------------------------------------------------------------------------------


def parse_junit(text: str) -> list[TestCase]:
    xml = JUnitXml.fromstring(text)
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    return [case for suite in suites for case in suite]


def test_junit_counts_read_back_by_junitparser() -> None:
    text = junit_xml(mixed_decision())
    xml = JUnitXml.fromstring(text)
    assert (xml.tests, xml.failures, xml.errors, xml.skipped) == (7, 2, 2, 0)
    cases = parse_junit(text)
    assert len(cases) == 7
    kinds = sorted(type(case.result[0]).__name__ if case.result else "passed" for case in cases)
    assert kinds == ["Error", "Error", "Failure", "Failure", "passed", "passed", "passed"]


def test_junit_testcase_names_and_failure_details() -> None:
    cases = {(case.classname, case.name): case for case in parse_junit(junit_xml(mixed_decision()))}
    reproduced = cases[("rotary", "einops==0.8.0, x-transformers==1.43.1")]
    (failure,) = reproduced.result
    assert isinstance(failure, Failure)
    assert failure.type == "einops.EinopsError"
    assert failure.message == "Error while processing"
    assert failure.text is not None
    assert "key-rotary" in failure.text

    (static,) = [case for (classname, name), case in cases.items() if classname == "rotary" and "known-bad" in name]
    assert static.name == "x-transformers==1.43.1 in known-bad range x-transformers<1.43.2,>=1.42.21"
    assert isinstance(static.result[0], Failure)
    assert static.result[0].type == "KnownBadRange"

    (error,) = cases[("timeouts", "einops==0.8.0, x-transformers==1.43.1")].result
    assert isinstance(error, Error)
    assert error.type == "TIMEOUT"
    assert error.message == "did not finish"
    (different,) = cases[("different", "einops==0.8.0, x-transformers==1.43.1")].result
    assert isinstance(different, Error)
    assert different.type == "ValueError"


def test_junit_acknowledged_case_passes_with_a_note() -> None:
    cases = {case.classname: case for case in parse_junit(junit_xml(mixed_decision()))}
    accepted = cases["accepted"]
    assert accepted.is_passed
    assert accepted.system_out is not None
    assert "accepted until 2027-01-31: waiting for upstream fix" in accepted.system_out


def test_junit_strict_turns_errors_into_failures() -> None:
    decision = decide((), (result("t", Outcome.TIMEOUT),), (), TODAY, True)
    xml = JUnitXml.fromstring(junit_xml(decision))
    assert (xml.tests, xml.failures, xml.errors) == (1, 1, 0)
    (case,) = parse_junit(junit_xml(decision))
    assert isinstance(case.result[0], Failure)
    assert case.result[0].type == "TIMEOUT"


def test_junit_usage_and_empty_decisions() -> None:
    xml = JUnitXml.fromstring(junit_xml(usage_decision("gate.toml: bad")))
    assert (xml.tests, xml.errors) == (1, 1)
    empty = JUnitXml.fromstring(junit_xml(decide((), (), (), TODAY)))
    assert (empty.tests, empty.failures, empty.errors) == (0, 0, 0)


@pytest.mark.parametrize("text", HOSTILE)
def test_junit_stays_well_formed_with_hostile_text(text: str) -> None:
    output = junit_xml(hostile_decision(text))
    output.encode("utf-8")  # no lone surrogates left
    root = ET.fromstring(output)
    assert root.tag == "testsuites"
    cases = parse_junit(output)
    assert len(cases) == 3
    (failure,) = next(case for case in cases if case.classname == "hostile").result
    assert isinstance(failure, Failure)
    # The message survives as text (control characters made visible), not as markup.
    assert failure.message == visible(" ".join(text.split()))


# --- Markdown -----------------------------------------------------------------------------------------------------


def unescaped(line: str, char: str) -> int:
    """How many times ``char`` occurs in ``line`` not preceded by a backslash escape."""
    return len(re.findall(rf"(?<!\\)(?:\\\\)*{re.escape(char)}", line))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words", "plain words"),
        ("a | b", "a \\| b"),
        ("<script>&", "&lt;script>&amp;"),
        ("`x`", "\\`x\\`"),
        ("# h", "\\# h"),
        ("[a](b)", "\\[a\\](b)"),
        ("line\nbreak", "line break"),
        ("- item", "\\- item"),
        ("12. item", "12\\. item"),
        ("back\\slash", "back\\\\slash"),
        ("$math$ ~s~ *b* _i_", "\\$math\\$ \\~s\\~ \\*b\\* \\_i\\_"),
        ("esc\x1b[0m", "esc\\\\x1b\\[0m"),
    ],
)
def test_escape_markdown(text: str, expected: str) -> None:
    assert inline(text) == expected


def test_escape_markdown_truncates_before_escaping() -> None:
    escaped = inline("|" * 1000, limit=50)
    assert not escaped.endswith("\\")
    assert unescaped(escaped, "|") == 0


def test_markdown_summary_lists_blocking_acknowledged_and_passed() -> None:
    text = markdown_summary(mixed_decision())
    assert text.startswith("## Dependency gate: FAILED (exit code 1)\n")
    assert "<summary>Acknowledged \\(1\\)</summary>" in text or "<summary>Acknowledged (1)</summary>" in text
    assert "waiting for upstream fix" in text
    assert "rotary" in text
    assert text.count("<details>") == text.count("</details>") == 2


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_cannot_be_injected(text: str) -> None:
    output = markdown_summary(hostile_decision(text))
    lines = output.splitlines()
    # Our structure is intact: one heading, balanced details blocks, no raw HTML from the message.
    assert [line for line in lines if line.startswith("#")] == [lines[0]]
    assert output.count("<details>") == output.count("</details>") == 1
    assert "<script" not in output
    assert "\x00" not in output
    assert "\x1b" not in output
    # Every table row has exactly as many unescaped pipes as its header.
    for block in re.findall(r"((?:^\|.*\n)+)", output, re.MULTILINE):
        rows = block.splitlines()
        assert {unescaped(row, "|") for row in rows} == {unescaped(rows[0], "|")}
    for line in lines:
        assert unescaped(line, "`") == 0
        assert unescaped(line, "[") == 0


def test_markdown_is_bounded() -> None:
    live = tuple(result(f"c{i}", Outcome.REPRODUCED, message="&" * 300, detail="<" * 300) for i in range(200))
    text = markdown_summary(decide((), live, (), TODAY), max_chars=20_000)
    assert len(text) <= 20_000
    assert "more rows" in text


def test_markdown_for_clear_and_usage() -> None:
    assert "nothing to check" in markdown_summary(decide((), (), (), TODAY))
    usage = markdown_summary(usage_decision("versions.toml: field 'python': expected a string"))
    assert "exit code 2" in usage
    assert "field 'python'" in usage.replace("&#39;", "'")


# --- GitHub Actions annotations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("::set-output name=x::1", "::set-output name=x::1", "%3A%3Aset-output name=x%3A%3A1"),
        ("%0A", "%250A", "%250A"),
    ],
)
def test_workflow_command_escaping(text: str, data: str, prop: str) -> None:
    assert escape_workflow_data(text) == data
    assert escape_workflow_property(text) == prop


def unescape_data(text: str) -> str:
    """What the Actions runner does to a command's message."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


COMMAND = re.compile(r"^::(error|warning|notice) title=([^:,]*)::(.*)$")


@pytest.mark.parametrize("text", HOSTILE)
def test_annotations_cannot_be_injected(text: str) -> None:
    output = github_annotations(hostile_decision(text))
    lines = output.splitlines()
    assert len(lines) == 3  # one per non-passing item, however many newlines the message had
    parsed = [COMMAND.match(line) for line in lines]
    assert all(parsed), lines
    levels = [match.group(1) for match in parsed if match]
    assert levels == ["error", "warning", "notice"]
    error = parsed[0]
    assert error is not None
    assert unescape_property(error.group(2)) == "dependency gate FAILED: hostile"
    # The runner gets back exactly the message we meant, the hostile part included as plain data.
    assert visible(text) in unescape_data(error.group(3))


def test_annotations_are_limited_and_name_expired_acknowledgements() -> None:
    live = tuple(result(f"c{i}", Outcome.REPRODUCED) for i in range(15))
    expired = (Acknowledgement("c0", TODAY - datetime.timedelta(days=1), "old"),)
    lines = github_annotations(decide((), live, expired, TODAY), limit=10).splitlines()
    assert sum(line.startswith("::error") for line in lines) == 10
    assert any("expired on 2026-11-30" in line for line in lines)
    assert lines[-1].startswith("::notice") and "5 more" in lines[-1]


def test_no_annotations_when_clear() -> None:
    assert github_annotations(decide((), (result("a", Outcome.PASSED),), (), TODAY)) == ""


# --- plain text ---------------------------------------------------------------------------------------------------


def test_human_summary() -> None:
    text = human_summary(mixed_decision())
    lines = text.splitlines()
    assert lines[0] == "Dependency gate: FAILED (exit code 1)"
    assert any("accepted until 2027-01-31" in line for line in lines)
    assert len(lines) <= 2 + 20


def test_human_summary_is_one_screen() -> None:
    live = tuple(result(f"c{i}", Outcome.REPRODUCED) for i in range(100))
    lines = human_summary(decide((), live, (), TODAY), max_lines=10).splitlines()
    assert len(lines) == 2 + 10
    assert "91 more" in lines[-1]


@pytest.mark.parametrize("text", HOSTILE)
def test_human_summary_lines_never_start_with_untrusted_text(text: str) -> None:
    output = human_summary(hostile_decision(text))
    for line in output.splitlines():
        assert not line.lstrip().startswith("::")
        assert "\x1b" not in line
        assert "\x00" not in line
    output.encode("utf-8")


def test_formatters_registry() -> None:
    decision = mixed_decision()
    assert set(FORMATTERS) == {"text", "junit", "markdown", "github"}
    for render in FORMATTERS.values():
        assert render(decision)
