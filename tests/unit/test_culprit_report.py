"""The culprit verdict as a sentence, a JSON dict and a Markdown section."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from harness.culprit.ddmin import CulpritResult, CulpritStatus, Subset, Trial, isolate
from harness.culprit.report import (
    culprit_from_json,
    culprit_markdown,
    culprit_sentence,
    culprit_to_json,
    stored_culprit,
    stored_culprit_to_json,
)
from harness.model.changes import PackageChange, Side, diff_environments, restrict_to
from harness.model.outcome import Outcome
from harness.model.pins import Pin

EINOPS = PackageChange.of("einops", "0.8.0", "0.8.2")
TORCH = PackageChange.of("torch", "2.13.0", "2.14.1")
X_TRANSFORMERS = PackageChange.of("x-transformers", "1.42.20", "1.43.1")
ALL = (EINOPS, TORCH, X_TRANSFORMERS)


def isolated(
    *culprits: PackageChange, companions: tuple[PackageChange, ...] = (), minimal: bool = True
) -> CulpritResult:
    return CulpritResult(
        status=CulpritStatus.ISOLATED,
        changes=ALL,
        culprits=culprits,
        companions=companions,
        not_involved=tuple(change for change in ALL if change not in culprits and change not in companions),
        trials=(Trial((), Outcome.PASSED), Trial(ALL, Outcome.REPRODUCED)),
        minimal=minimal,
    )


@pytest.mark.parametrize(
    ("result", "first_bad", "sentence"),
    [
        (
            isolated(X_TRANSFORMERS),
            None,
            "x-transformers 1.42.20 -> 1.43.1 is the culprit; "
            "einops 0.8.0 -> 0.8.2 and torch 2.13.0 -> 2.14.1 are not involved.",
        ),
        (
            isolated(X_TRANSFORMERS),
            "1.42.21",
            "x-transformers 1.42.20 -> 1.43.1 is the culprit; "
            "einops 0.8.0 -> 0.8.2 and torch 2.13.0 -> 2.14.1 are not involved; first bad release 1.42.21.",
        ),
        (
            isolated(EINOPS, X_TRANSFORMERS),
            None,
            "einops 0.8.0 -> 0.8.2 and x-transformers 1.42.20 -> 1.43.1 together are the culprit "
            "(neither alone breaks the case); torch 2.13.0 -> 2.14.1 is not involved.",
        ),
        (
            isolated(*ALL),
            None,
            "einops 0.8.0 -> 0.8.2, torch 2.13.0 -> 2.14.1 and x-transformers 1.42.20 -> 1.43.1 together are the "
            "culprit (none of them alone breaks the case).",
        ),
        (
            isolated(EINOPS, X_TRANSFORMERS, minimal=False),
            None,
            "einops 0.8.0 -> 0.8.2 and x-transformers 1.42.20 -> 1.43.1 together are the culprit "
            "(not each shown to be needed); torch 2.13.0 -> 2.14.1 is not involved.",
        ),
        (
            isolated(X_TRANSFORMERS, companions=(EINOPS,)),
            None,
            "x-transformers 1.42.20 -> 1.43.1 is the culprit, with einops 0.8.0 -> 0.8.2 dragged along "
            "(x-transformers 1.43.1 cannot be installed without it); torch 2.13.0 -> 2.14.1 is not involved.",
        ),
    ],
)
def test_sentence_names_the_culprit_and_the_innocent(
    result: CulpritResult, first_bad: str | None, sentence: str
) -> None:
    assert culprit_sentence(result, first_bad=first_bad) == sentence


@pytest.mark.parametrize(
    ("status", "notes", "phrase"),
    [
        (CulpritStatus.NO_CHANGES, (), "same versions"),
        (CulpritStatus.NEW_PASSES, (), "new environment passes too"),
        (CulpritStatus.OLD_FAILS, (), "old environment already fails"),
        (
            CulpritStatus.UNTESTABLE,
            ("cannot isolate: the new environment gave DIFFERENT_ERROR where it should fail",),
            "Cannot isolate: the new environment gave DIFFERENT_ERROR",
        ),
    ],
)
def test_sentence_when_there_is_nothing_to_isolate(status: CulpritStatus, notes: tuple[str, ...], phrase: str) -> None:
    result = CulpritResult(status=status, changes=ALL, notes=notes)
    sentence = culprit_sentence(result, first_bad="1.42.21")
    assert phrase in sentence
    assert "culprit" not in sentence
    assert "1.42.21" not in sentence


def scripted_search() -> CulpritResult:
    """x-transformers breaks the case and cannot be installed without the einops upgrade."""

    def oracle(subset: Subset) -> Outcome:
        if X_TRANSFORMERS in subset and EINOPS not in subset:
            return Outcome.UNRESOLVABLE
        return Outcome.REPRODUCED if X_TRANSFORMERS in subset else Outcome.PASSED

    return isolate(ALL, oracle, companions={X_TRANSFORMERS: [EINOPS]})


def test_json_carries_every_finding_and_is_serialisable() -> None:
    result = scripted_search()
    old = [Pin.parse(text) for text in ("einops==0.8.0", "torch==2.13.0", "x-transformers==1.42.20", "numpy==2.0")]
    new = [Pin.parse(text) for text in ("einops==0.8.2", "torch==2.14.1", "x-transformers==1.43.1", "numpy==2.1")]
    delta = restrict_to(diff_environments(old, new), ["einops", "torch", "x-transformers"])
    data = culprit_to_json(result, first_bad="1.42.21", delta=delta)
    assert json.loads(json.dumps(data)) == data
    assert data["status"] == "ISOLATED"
    assert data["culprits"] == [{"name": "x-transformers", "old": "1.42.20", "new": "1.43.1", "kind": "upgrade"}]
    assert [change["name"] for change in data["companions"]] == ["einops"]
    assert [change["name"] for change in data["not_involved"]] == ["torch"]
    assert [change["name"] for change in data["excluded"]] == ["numpy"]
    assert data["excluded_at"] == "old"
    assert data["first_bad_release"] == "1.42.21"
    assert data["summary"].endswith("first bad release 1.42.21.")
    assert len(data["trials"]) == len(result.trials)
    assert data["trials"][0] == {"applied": [], "dragged": [], "outcome": "PASSED", "result": "PASS"}
    assert {"outcome": "REPRODUCED", "dragged": ["einops"]}.items() <= next(
        trial for trial in data["trials"] if trial["dragged"]
    ).items()


def test_markdown_shows_roles_trials_and_workarounds() -> None:
    result = scripted_search()
    text = culprit_markdown(result, first_bad="1.42.21")
    lines = text.splitlines()
    assert lines[0] == "## Which change broke it"
    assert "| x-transformers | 1.42.20 | 1.43.1 | upgrade | **culprit** |" in lines
    assert "| einops | 0.8.0 | 0.8.2 | upgrade | dragged along |" in lines
    assert "| torch | 2.13.0 | 2.14.1 | upgrade | not involved |" in lines
    assert f"### Trials ({len(result.trials)})" in lines
    assert "| 1 | none (old environment) |  | PASSED | pass |" in lines
    assert any(line.startswith("| 2 |") and "(new environment)" in line for line in lines)
    assert any(line.startswith("The resolver rejected") and "x-transformers 1.43.1" in line for line in lines)
    assert any(line.startswith("Retried with") and "x-transformers 1.43.1 with einops 0.8.2" in line for line in lines)
    assert "### Notes" in lines


def test_markdown_neutralises_text_from_metadata_and_messages() -> None:
    hostile = "boom | <img src=x onerror=alert(1)> *bold* [link](http://evil)\n# not a heading"
    result = CulpritResult(
        status=CulpritStatus.ISOLATED,
        changes=(X_TRANSFORMERS,),
        culprits=(X_TRANSFORMERS,),
        trials=(Trial((), Outcome.PASSED), Trial((X_TRANSFORMERS,), Outcome.REPRODUCED)),
        minimal=True,
        notes=(hostile,),
    )
    text = culprit_markdown(result, first_bad="1.42.21 <b>")
    assert "<img" not in text
    assert "<b>" not in text
    assert "\n# not a heading" not in text
    note_line = next(line for line in text.splitlines() if "boom" in line)
    assert note_line.startswith("- boom \\| &lt;img")
    assert "\\*bold\\*" in note_line
    assert "\\[link\\]" in note_line


def test_markdown_for_a_search_that_stopped_early_has_no_roles() -> None:
    result = CulpritResult(
        status=CulpritStatus.NEW_PASSES,
        changes=ALL,
        trials=(Trial((), Outcome.PASSED), Trial(ALL, Outcome.PASSED)),
        notes=("the new environment passes too: no change breaks the case",),
    )
    text = culprit_markdown(result, heading="### Culprit")
    assert text.startswith("### Culprit\n\nThe new environment passes too")
    assert "**culprit**" not in text
    assert "| torch | 2.13.0 | 2.14.1 | upgrade | - |" in text.splitlines()


def test_the_file_reads_back_as_the_value_it_was_written_from() -> None:
    result = scripted_search()
    old = [Pin.parse(text) for text in ("einops==0.8.0", "torch==2.13.0", "x-transformers==1.42.20", "numpy==2.0")]
    new = [Pin.parse(text) for text in ("einops==0.8.2", "torch==2.14.1", "x-transformers==1.43.1", "numpy==2.1")]
    delta = restrict_to(diff_environments(old, new), ["einops", "torch", "x-transformers"])
    stored = replace(stored_culprit(result, first_bad="1.42.21", delta=delta), case_id="xt")
    data = json.loads(json.dumps(stored_culprit_to_json(stored)))
    assert culprit_from_json(data) == stored
    assert stored.culprits == (X_TRANSFORMERS,)
    assert stored.excluded_at is Side.OLD
    without_case = culprit_to_json(result, first_bad="1.42.21", delta=delta)
    assert "case_id" not in without_case
    assert culprit_from_json(without_case) == replace(stored, case_id=None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("x", "not a JSON object"),
        ({"schema": 2}, "schema 2"),
        ({"schema": 1, "status": "ISOLATED"}, "malformed"),
        ({"schema": 1, "status": "LOST"}, "LOST"),
    ],
)
def test_what_is_not_a_culprit_report_is_refused(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        culprit_from_json(data)
