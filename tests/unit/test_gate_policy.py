"""Gate policy: exit codes, outcome verdicts, known-bad ranges, acknowledgements and the overall decision."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import harness.gate.policy as policy_module
from harness.config import load_acknowledgements
from harness.errors import ConfigError
from harness.gate.acknowledgements import Acknowledgement, parse_acknowledgements
from harness.gate.policy import (
    EXIT_CODES,
    GateVerdict,
    LiveResult,
    decide,
    outcome_verdict,
    static_findings,
    usage_decision,
)
from harness.model.known_bad import KnownBadRange, known_bad_from_json, known_bad_to_json
from harness.model.outcome import Outcome
from harness.model.pins import Pin

TODAY = datetime.date(2026, 12, 1)
BAD_ENV = (Pin.of("einops", "0.8.0"), Pin.of("x-transformers", "1.43.1"))
GOOD_ENV = (Pin.of("einops", "0.8.0"), Pin.of("x-transformers", "1.43.2"))
ROTARY = "rotary_xpos_batch1_seq32"
RANGE = KnownBadRange.between(ROTARY, "x-transformers", "1.42.21", "1.43.2", "2026-11-29")


def live(outcome: Outcome, env: tuple[Pin, ...] = BAD_ENV, case_id: str = ROTARY, detail: str = "d") -> LiveResult:
    return LiveResult(case_id, "rotary embedding", env, outcome, detail, None, None, None)


def ack(
    until: datetime.date, case_id: str = ROTARY, package: str | None = None, versions: str | None = None
) -> Acknowledgement:
    return Acknowledgement(
        case_id,
        until,
        "waiting for upstream fix",
        canonicalize_name(package) if package else None,
        SpecifierSet(versions) if versions else None,
    )


# --- exit codes ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdict", "code"),
    [(GateVerdict.CLEAR, 0), (GateVerdict.FAILED, 1), (GateVerdict.USAGE, 2), (GateVerdict.UNDECIDED, 3)],
)
def test_exit_code_table(verdict: GateVerdict, code: int) -> None:
    assert verdict.exit_code == code
    assert EXIT_CODES[verdict] == code


def test_module_docstring_documents_the_same_exit_codes() -> None:
    documented = dict(re.findall(r"^\s+([A-Z]+)\s+(\d)\s", policy_module.__doc__ or "", re.MULTILINE))
    assert {GateVerdict(name): int(code) for name, code in documented.items()} == dict(EXIT_CODES)


# --- outcome verdicts ---------------------------------------------------------------------------------------------

C, F, U = GateVerdict.CLEAR, GateVerdict.FAILED, GateVerdict.UNDECIDED


@pytest.mark.parametrize(
    ("outcome", "default", "strict", "different_error_fails"),
    [
        (Outcome.REPRODUCED, F, F, F),
        (Outcome.PASSED, C, C, C),
        (Outcome.DIFFERENT_ERROR, U, F, F),
        (Outcome.UNRESOLVABLE, U, F, U),
        (Outcome.INSTALL_FAILED, U, F, U),
        (Outcome.TIMEOUT, U, F, U),
        (Outcome.CRASHED, U, F, U),
    ],
)
def test_outcome_verdict_table(
    outcome: Outcome, default: GateVerdict, strict: GateVerdict, different_error_fails: GateVerdict
) -> None:
    assert outcome_verdict(outcome) is default
    assert outcome_verdict(outcome, strict=True) is strict
    assert outcome_verdict(outcome, different_error_fails=True) is different_error_fails


def test_every_outcome_has_a_verdict() -> None:
    for outcome in Outcome:
        assert isinstance(outcome_verdict(outcome), GateVerdict)


# --- known-bad ranges ---------------------------------------------------------------------------------------------


DROP = object()


def range_data(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "case_id": ROTARY,
        "package": "X_Transformers",
        "specifier": ">=1.42.21,<1.43.2",
        "first_bad": "1.42.21",
        "first_fixed": "1.43.2",
        "found_at": "2026-11-29",
    }
    item.update(overrides)
    return {"schema": 1, "ranges": [{k: v for k, v in item.items() if v is not DROP}]}


def test_parse_known_bad_ranges_round_trips() -> None:
    ranges = known_bad_from_json(range_data())
    assert ranges == (RANGE,)
    assert ranges[0].package == "x-transformers"
    assert known_bad_from_json(known_bad_to_json(ranges)) == ranges
    open_ended = (KnownBadRange.between("c", "einops", None, "0.8.1"), KnownBadRange.between("d", "torch", "2.6", None))
    assert known_bad_from_json(known_bad_to_json(open_ended)) == open_ended


def test_optional_fields_and_unknown_keys() -> None:
    ranges = known_bad_from_json(
        range_data(first_bad=DROP, first_fixed=None, found_at=None, note="from a future writer")
    )
    assert ranges[0].first_bad is None
    assert ranges[0].first_fixed is None
    assert ranges[0].found_at is None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"schema": 2, "ranges": []}, "schema 2"),
        ({"ranges": []}, "schema None"),
        ({"schema": 1, "ranges": {}}, "'ranges'"),
        ({"schema": 1, "ranges": ["x"]}, "'ranges'"),
        (range_data(case_id=DROP), "ranges[0].case_id"),
        (range_data(case_id=" "), "ranges[0].case_id"),
        (range_data(package=3), "ranges[0].package"),
        (range_data(specifier=">>1"), "ranges[0].specifier"),
        (range_data(specifier=""), "ranges[0].specifier"),
        (range_data(first_bad="one"), "ranges[0].first_bad"),
        (range_data(first_bad="1.42.20"), "inside"),
        (range_data(first_fixed="1.43.1"), "outside"),
    ],
)
def test_known_bad_range_errors(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        known_bad_from_json(data, "known_bad.json")
    message = str(excinfo.value)
    assert "\n" not in message
    assert "known_bad.json" in message
    assert fragment in message


@pytest.mark.parametrize(
    ("first_bad", "first_fixed", "specifier"),
    [("1.0", "2.0", "<2.0,>=1.0"), ("1.0", None, ">=1.0"), (None, "2.0", "<2.0")],
)
def test_known_bad_range_between(first_bad: str | None, first_fixed: str | None, specifier: str) -> None:
    assert KnownBadRange.between("c", "P", first_bad, first_fixed).specifier == SpecifierSet(specifier)


def test_known_bad_range_between_needs_an_end() -> None:
    with pytest.raises(ConfigError):
        KnownBadRange.between("c", "p", None, None)


@pytest.mark.parametrize(
    ("pin", "inside"),
    [
        ("x-transformers==1.42.20", False),
        ("x-transformers==1.42.21", True),
        ("x_transformers==1.43.1", True),
        ("x-transformers==1.43.1.post1", True),
        ("x-transformers==1.43.1+local", True),
        ("x-transformers==1.43.2rc1", False),  # PEP 440: <1.43.2 excludes 1.43.2's pre-releases
        ("x-transformers==1.43.0rc1", True),
        ("x-transformers==1.43.2", False),
        ("einops==1.43.1", False),
    ],
)
def test_static_findings(pin: str, inside: bool) -> None:
    candidate = Pin.parse(pin)
    findings = static_findings((candidate, Pin.of("torch", "2.5.1")), (RANGE,))
    assert [(f.pin, f.known_bad) for f in findings] == ([(candidate, RANGE)] if inside else [])


def test_static_finding_names_case_range_and_ends() -> None:
    (finding,) = static_findings(BAD_ENV, (RANGE,))
    assert finding.case_id == ROTARY
    for fragment in (ROTARY, "x-transformers==1.43.1", "x-transformers<1.43.2,>=1.42.21", "1.42.21", "1.43.2"):
        assert fragment in finding.reason


def test_static_findings_are_sorted_by_case() -> None:
    other = KnownBadRange.between("a_case", "einops", "0.8.0", None)
    findings = static_findings(BAD_ENV, (RANGE, other))
    assert [f.case_id for f in findings] == ["a_case", ROTARY]


# --- acknowledgements ---------------------------------------------------------------------------------------------


def test_parse_acknowledgements() -> None:
    data = {
        "accept": [
            {"case": ROTARY, "until": datetime.date(2027, 1, 31), "reason": "waiting for upstream fix"},
            {
                "case": "other",
                "until": "2027-02-01",
                "reason": "r",
                "package": "X_Transformers",
                "versions": ">=1.42.21,<1.43.2",
            },
        ],
        "gate": {"strict": True},
    }
    first, second = parse_acknowledgements(data)
    assert first == Acknowledgement(ROTARY, datetime.date(2027, 1, 31), "waiting for upstream fix")
    assert second.package == "x-transformers"
    assert second.versions == SpecifierSet(">=1.42.21,<1.43.2")
    assert second.until == datetime.date(2027, 2, 1)
    assert parse_acknowledgements({}) == ()


GOOD_ACK = {"case": ROTARY, "until": datetime.date(2027, 1, 31), "reason": "r"}


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({**GOOD_ACK, "until": "soon"}, "accept[0].until"),
        ({**GOOD_ACK, "until": datetime.datetime(2027, 1, 31, 10, 0)}, "accept[0].until"),
        ({k: v for k, v in GOOD_ACK.items() if k != "until"}, "missing"),
        ({k: v for k, v in GOOD_ACK.items() if k != "reason"}, "accept[0].reason"),
        ({**GOOD_ACK, "reason": "  "}, "accept[0].reason"),
        ({**GOOD_ACK, "case": ""}, "accept[0].case"),
        ({**GOOD_ACK, "case": 3}, "accept[0].case"),
        ({**GOOD_ACK, "versions": "<2"}, "together with 'package'"),
        ({**GOOD_ACK, "package": "p", "versions": "<<2"}, "accept[0].versions"),
        ({**GOOD_ACK, "util": "2027-01-31"}, "unknown field"),
    ],
)
def test_acknowledgement_errors(item: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        parse_acknowledgements({"accept": [item]}, "gate.toml")
    message = str(excinfo.value)
    assert "\n" not in message
    assert message.startswith("gate.toml")
    assert fragment in message


def test_accept_must_be_an_array_of_tables() -> None:
    with pytest.raises(ConfigError, match=r"\[\[accept\]\]"):
        parse_acknowledgements({"accept": {"case": "x"}})


def test_load_acknowledgements(tmp_path: Any) -> None:
    path = tmp_path / "gate.toml"
    assert load_acknowledgements(path, missing_ok=True) == ()
    with pytest.raises(ConfigError, match="not found"):
        load_acknowledgements(path)
    path.write_text('[[accept]]\ncase = "c"\nuntil = 2027-01-31\nreason = "r"\n', encoding="utf-8")
    assert load_acknowledgements(path) == (Acknowledgement("c", datetime.date(2027, 1, 31), "r"),)


@pytest.mark.parametrize(
    ("acknowledgement", "env", "covers"),
    [
        (ack(TODAY), BAD_ENV, True),
        (ack(TODAY, case_id="other"), BAD_ENV, False),
        (ack(TODAY, package="x-transformers"), BAD_ENV, True),
        (ack(TODAY, package="torch"), BAD_ENV, False),
        (ack(TODAY, package="X_Transformers", versions="<1.43.2"), BAD_ENV, True),
        (ack(TODAY, package="x-transformers", versions="<1.43.1"), BAD_ENV, False),
    ],
)
def test_acknowledgement_scope(acknowledgement: Acknowledgement, env: tuple[Pin, ...], covers: bool) -> None:
    assert acknowledgement.covers(ROTARY, env) is covers


# --- the decision -------------------------------------------------------------------------------------------------

FINDING = static_findings(BAD_ENV, (RANGE,))
LATER = TODAY + datetime.timedelta(days=30)
EARLIER = TODAY - datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("static", "results", "acks", "strict", "verdict"),
    [
        ((), (), (), False, C),
        ((), (live(Outcome.PASSED, GOOD_ENV),), (), False, C),
        ((), (live(Outcome.REPRODUCED),), (), False, F),
        (FINDING, (), (), False, F),
        (FINDING, (live(Outcome.PASSED),), (), False, F),
        ((), (live(Outcome.INSTALL_FAILED),), (), False, U),
        ((), (live(Outcome.INSTALL_FAILED),), (), True, F),
        ((), (live(Outcome.DIFFERENT_ERROR),), (), False, U),
        ((), (live(Outcome.TIMEOUT), live(Outcome.REPRODUCED, case_id="b")), (), False, F),
        ((), (live(Outcome.PASSED), live(Outcome.CRASHED, case_id="b")), (), False, U),
        ((), (live(Outcome.REPRODUCED),), (ack(LATER),), False, C),
        ((), (live(Outcome.REPRODUCED),), (ack(TODAY),), False, C),  # "until" is inclusive
        ((), (live(Outcome.REPRODUCED),), (ack(EARLIER),), False, F),  # expired
        ((), (live(Outcome.REPRODUCED),), (ack(LATER, case_id="b"),), False, F),
        ((), (live(Outcome.REPRODUCED),), (ack(LATER, package="torch"),), False, F),
        (
            (),
            (live(Outcome.REPRODUCED, GOOD_ENV),),
            (ack(LATER, package="x-transformers", versions="<1.43.2"),),
            False,
            F,
        ),
        (FINDING, (live(Outcome.REPRODUCED),), (ack(LATER),), False, C),
        ((), (live(Outcome.TIMEOUT),), (ack(LATER),), True, C),
        ((), (live(Outcome.TIMEOUT), live(Outcome.REPRODUCED)), (ack(LATER, package="nothing"),), False, F),
    ],
)
def test_decide(
    static: tuple[Any, ...],
    results: tuple[LiveResult, ...],
    acks: tuple[Acknowledgement, ...],
    strict: bool,
    verdict: GateVerdict,
) -> None:
    decision = decide(static, results, acks, TODAY, strict)
    assert decision.verdict is verdict
    assert decision.exit_code == EXIT_CODES[verdict]
    assert decision.reasons
    assert all("\n" not in reason for reason in decision.reasons)
    assert len(decision.judgements) == len(static) + len(results)


def test_different_error_flag() -> None:
    results = (live(Outcome.DIFFERENT_ERROR),)
    assert decide((), results, (), TODAY, different_error_fails=True).verdict is GateVerdict.FAILED
    assert decide((), results, (), TODAY).verdict is GateVerdict.UNDECIDED


def test_acknowledged_items_are_reported_without_failing() -> None:
    decision = decide(FINDING, (live(Outcome.REPRODUCED),), (ack(LATER),), TODAY)
    assert decision.verdict is GateVerdict.CLEAR
    assert len(decision.acknowledged) == 2
    assert not decision.blocking
    note = f"accepted until {LATER.isoformat()}: waiting for upstream fix"
    assert sum(note in reason for reason in decision.reasons) == 2
    assert all(j.verdict is GateVerdict.FAILED for j in decision.acknowledged)


def test_the_latest_of_several_valid_acknowledgements_is_reported() -> None:
    decision = decide((), (live(Outcome.REPRODUCED),), (ack(TODAY), ack(LATER), ack(EARLIER)), TODAY)
    (judgement,) = decision.acknowledged
    assert judgement.acknowledgement is not None
    assert judgement.acknowledgement.until == LATER
    assert decision.expired == ()


def test_expired_acknowledgement_is_named_and_stops_applying() -> None:
    decision = decide((), (live(Outcome.REPRODUCED),), (ack(EARLIER),), TODAY)
    assert decision.verdict is GateVerdict.FAILED
    assert decision.expired == (ack(EARLIER),)
    assert any(f"expired on {EARLIER.isoformat()}" in reason for reason in decision.reasons)


def test_reasons_put_blocking_items_first_and_fold_hostile_details() -> None:
    results = (
        live(Outcome.PASSED, GOOD_ENV, case_id="a"),
        live(Outcome.TIMEOUT, case_id="b"),
        live(Outcome.REPRODUCED, case_id="c", detail="einops.EinopsError:\nline two\r\n::error::x"),
    )
    decision = decide((), results, (), TODAY)
    assert [j.case_id for j in decision.judgements] == ["c", "b", "a"]
    assert decision.reasons[0].startswith("c reproduced with einops==0.8.0, x-transformers==1.43.1")
    assert "line two ::error::x" in decision.reasons[0]
    assert decision.reasons[1].startswith("b gave no answer")
    assert "TIMEOUT" in decision.reasons[1]


def test_strict_says_so_in_the_reason() -> None:
    decision = decide((), (live(Outcome.UNRESOLVABLE),), (), TODAY, True)
    assert decision.strict
    assert "strict" in decision.reasons[0]


def test_usage_decision() -> None:
    decision = usage_decision("gate.toml: field 'accept[0].until': expected a date\nsecond line")
    assert decision.verdict is GateVerdict.USAGE
    assert decision.exit_code == 2
    assert decision.reasons == ("gate.toml: field 'accept[0].until': expected a date second line",)
