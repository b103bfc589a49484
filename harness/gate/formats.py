"""Render a gate decision as text: a terminal summary, JUnit XML, Markdown for PRs, GitHub Actions annotations.

Exception messages, installer output and case text are untrusted: a dependency's error message ends up in a PR
comment and in the CI log. Every format therefore escapes all of it for its own syntax (Markdown and HTML,
XML, workflow commands), and no line of plain-text output ever begins with untrusted text, so a message such as
``::set-output name=x::1`` or ``</details><script>`` stays inert.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

from harness.gate.policy import (
    GateDecision,
    GateVerdict,
    Judgement,
    LiveResult,
    StaticFinding,
    environment_label,
    one_line,
)
from harness.markdown import inline, safe_line, visible

_VERDICT_BLURB = {
    GateVerdict.CLEAR: "No recorded case reproduces with the proposed versions.",
    GateVerdict.FAILED: "A recorded failure comes back with the proposed versions, or a pin is in a known-bad range.",
    GateVerdict.UNDECIDED: (
        "Some cases gave no answer: their environment could not be built, they timed out or crashed, they "
        "failed with a different error, or a pin lies in a range a bisection could not test. Re-run when the "
        "index is reachable, or use --strict to count this as failed."
    ),
    GateVerdict.USAGE: "The gate could not run because of its configuration or command line.",
}


# --- plain text ---------------------------------------------------------------------------------------------------


def human_summary(decision: GateDecision, *, max_lines: int = 20) -> str:
    """A one-screen summary for the terminal; every reason line starts with our own marker."""
    lines = [f"Dependency gate: {decision.verdict.value} (exit code {decision.exit_code})"]
    lines.append(f"  {_VERDICT_BLURB[decision.verdict]}")
    reasons = decision.reasons
    shown = reasons if len(reasons) <= max_lines else reasons[: max_lines - 1]
    lines += [f"  - {safe_line(reason)}" for reason in shown]
    if len(shown) < len(reasons):
        lines.append(f"  ... and {len(reasons) - len(shown)} more (see the JUnit or Markdown report)")
    return "\n".join(lines) + "\n"


# --- JUnit XML ----------------------------------------------------------------------------------------------------


def junit_xml(decision: GateDecision, *, suite_name: str = "dependency-gate") -> str:
    """JUnit XML: one testcase per case and environment; FAILED is a failure, UNDECIDED an error.

    UNDECIDED is reported as ``<error>`` rather than ``<skipped>`` because the gate does not pass: JUnit's
    "error" is a test that could not reach a verdict, which is what an environment that cannot be built is.
    Acknowledged items pass and carry the acknowledgement in ``<system-out>``.
    """
    suites = ET.Element("testsuites", name=_xml(suite_name))
    suite = ET.SubElement(suites, "testsuite", name=_xml(suite_name))
    failures = errors = 0
    for judgement in decision.judgements:
        case = ET.SubElement(
            suite, "testcase", classname=_xml(judgement.case_id), name=_xml(_testcase_name(judgement)), time="0"
        )
        if judgement.acknowledgement is not None:
            note = f"ACKNOWLEDGED {judgement.verdict.value}: {judgement.acknowledgement.note}\n{_body(judgement)}"
            ET.SubElement(case, "system-out").text = _xml(note)
        elif judgement.verdict is GateVerdict.FAILED:
            failures += 1
            _problem(case, "failure", judgement)
        elif judgement.verdict is GateVerdict.UNDECIDED:
            errors += 1
            _problem(case, "error", judgement)
    if decision.verdict is GateVerdict.USAGE:
        errors += 1
        case = ET.SubElement(suite, "testcase", classname=_xml(suite_name), name="configuration", time="0")
        message = "; ".join(decision.reasons)
        ET.SubElement(case, "error", message=_xml(one_line(message)), type="USAGE").text = _xml(message)
    counts = {"tests": str(len(suite)), "failures": str(failures), "errors": str(errors), "skipped": "0"}
    for element in (suites, suite):
        element.attrib.update(counts)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _problem(case: ET.Element, tag: str, judgement: Judgement) -> None:
    subject = judgement.subject
    if isinstance(subject, StaticFinding):
        message, kind = judgement.reason, "KnownBadRange" if subject.uncertain is None else "UncertainRange"
    else:
        message = subject.error_message or subject.detail or subject.outcome.value
        kind = subject.error_type or subject.outcome.value
    element = ET.SubElement(case, tag, message=_xml(one_line(message)), type=_xml(one_line(kind, 200)))
    element.text = _xml(_body(judgement))


def _testcase_name(judgement: Judgement) -> str:
    subject = judgement.subject
    if isinstance(subject, StaticFinding):
        where = "known-bad range" if subject.uncertain is None else "untested range"
        return f"{subject.pin} in {where} {subject.range_label}"
    return environment_label(subject.environment)


def _body(judgement: Judgement) -> str:
    subject = judgement.subject
    lines = [judgement.reason]
    if isinstance(subject, LiveResult):
        lines.append(f"outcome: {subject.outcome.value}")
        if subject.error_type:
            lines.append(f"error type: {subject.error_type}")
        if subject.error_message:
            lines.append(f"error message:\n{_bounded(subject.error_message, 4000)}")
        if subject.detail:
            lines.append(f"detail:\n{_bounded(subject.detail, 4000)}")
        lines += [f"repaired: {repair}" for repair in subject.repairs]
        if subject.record_key:
            lines.append(f"record: {subject.record_key}")
    else:
        known = subject.known_bad
        lines.append(f"known-bad range: {known.label} (case {known.case_id})")
        if subject.uncertain is not None:
            lines.append(f"could not be tested: {subject.range_label}")
        lines += [
            f"{label}: {value}"
            for label, value in (
                ("first bad", known.first_bad),
                ("first fixed", known.first_fixed),
                ("found at", known.found_at),
            )
            if value
        ]
    return "\n".join(lines)


def _xml(text: str) -> str:
    # ElementTree escapes markup characters itself, but writes XML-illegal characters through unchanged.
    return visible(text)


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- Markdown -----------------------------------------------------------------------------------------------------


def markdown_summary(decision: GateDecision, *, max_rows: int = 40, max_chars: int = 60_000) -> str:
    """A Markdown report for a PR comment or ``$GITHUB_STEP_SUMMARY`` (GitHub caps comments at 65536 chars)."""
    rows = max_rows
    while True:
        text = _markdown(decision, rows)
        if len(text) <= max_chars or rows <= 1:
            return text
        rows //= 2


def _markdown(decision: GateDecision, max_rows: int) -> str:
    verdict = decision.verdict
    out = [f"## Dependency gate: {verdict.value} (exit code {decision.exit_code})", "", _VERDICT_BLURB[verdict], ""]
    if verdict is GateVerdict.USAGE:
        out += [f"- {inline(reason)}" for reason in decision.reasons] + [""]
    blocking = decision.blocking
    if blocking:
        out += _table(
            ["Verdict", "Case", "Environment", "Detail"],
            [[j.verdict.value, _case_label(j), environment_label(j.environment), _detail(j)] for j in blocking],
            max_rows,
        )
    if decision.expired:
        out += ["**Expired acknowledgements** (they no longer apply):", ""]
        out += [
            f"- {inline(a.scope)}: expired on {a.until.isoformat()} ({inline(a.reason)})" for a in decision.expired
        ] + [""]
    acknowledged = decision.acknowledged
    if acknowledged:
        out += _details(
            f"Acknowledged ({len(acknowledged)})",
            _table(
                ["Verdict", "Case", "Environment", "Accepted until", "Reason", "Detail"],
                [
                    [
                        j.verdict.value,
                        _case_label(j),
                        environment_label(j.environment),
                        j.acknowledgement.until.isoformat(),
                        j.acknowledgement.reason,
                        _detail(j),
                    ]
                    for j in acknowledged
                    if j.acknowledgement is not None
                ],
                max_rows,
            ),
        )
    passed = [j for j in decision.judgements if j.verdict is GateVerdict.CLEAR]
    if passed:
        out += _details(
            f"Passed ({len(passed)})",
            _table(
                ["Case", "Environment"], [[_case_label(j), environment_label(j.environment)] for j in passed], max_rows
            ),
        )
    if verdict is GateVerdict.CLEAR and not decision.judgements:
        out += [f"- {inline(reason)}" for reason in decision.reasons] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], max_rows: int) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(inline(cell) for cell in row) + " |" for row in rows[:max_rows]]
    if len(rows) > max_rows:
        lines.append(f"\n... and {len(rows) - max_rows} more rows (see the JUnit report)")
    return [*lines, ""]


def _details(summary: str, body: list[str]) -> list[str]:
    # Blank lines around the body let GitHub render the Markdown table inside the HTML block.
    return ["<details>", f"<summary>{inline(summary)}</summary>", "", *body, "</details>", ""]


def _case_label(judgement: Judgement) -> str:
    subject = judgement.subject
    if isinstance(subject, LiveResult) and subject.case_title:
        return f"{subject.case_id} - {subject.case_title}"
    return judgement.case_id


def _detail(judgement: Judgement) -> str:
    subject = judgement.subject
    if isinstance(subject, StaticFinding):
        return subject.reason
    text = f"{subject.outcome.value}: {subject.detail}" if subject.detail else subject.outcome.value
    return text + "".join(f" (repaired: {repair})" for repair in subject.repairs)


# --- GitHub Actions workflow commands -----------------------------------------------------------------------------


def escape_workflow_data(text: str) -> str:
    """Escape the message part of a workflow command, as the Actions runner unescapes it."""
    return visible(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_workflow_property(text: str) -> str:
    """Escape a property value (``title=...``), where ``:`` and ``,`` are separators too."""
    return escape_workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(decision: GateDecision, *, limit: int = 10) -> str:
    """``::error``/``::warning``/``::notice`` lines: errors for FAILED, warnings for UNDECIDED, notices for
    acknowledged items; GitHub shows only a few annotations per step, so at most ``limit`` item lines."""
    lines: list[str] = []
    if decision.verdict is GateVerdict.USAGE:
        lines.append(_command("error", "dependency gate: configuration", "; ".join(decision.reasons)))
    items = [*decision.blocking, *decision.acknowledged]
    for judgement in items[:limit]:
        level, title = _annotation_kind(judgement)
        message = judgement.reason
        if judgement.acknowledgement is not None:
            message += f"\n{judgement.acknowledgement.note}"
        elif isinstance(judgement.subject, LiveResult) and judgement.subject.error_message:
            message += f"\n{_bounded(judgement.subject.error_message, 2000)}"
        lines.append(_command(level, f"{title}: {judgement.case_id}", message))
    for acknowledgement in decision.expired:
        text = f"acknowledgement of {acknowledgement.scope} expired on {acknowledgement.until.isoformat()}"
        lines.append(_command("warning", "dependency gate: expired acknowledgement", text))
    if len(items) > limit:
        lines.append(_command("notice", "dependency gate", f"{len(items) - limit} more items in the gate reports"))
    return "".join(line + "\n" for line in lines)


def _annotation_kind(judgement: Judgement) -> tuple[str, str]:
    if judgement.acknowledgement is not None:
        return "notice", f"dependency gate {judgement.verdict.value} (acknowledged)"
    if judgement.verdict is GateVerdict.FAILED:
        return "error", "dependency gate FAILED"
    return "warning", f"dependency gate {judgement.verdict.value}"


def _command(level: str, title: str, message: str) -> str:
    return f"::{level} title={escape_workflow_property(title)}::{escape_workflow_data(message)}"


FORMATTERS: dict[str, Callable[[GateDecision], str]] = {
    "text": human_summary,
    "junit": junit_xml,
    "markdown": markdown_summary,
    "github": github_annotations,
}
"""The renderers by name, for a ``--format`` option."""
