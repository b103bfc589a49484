"""Signatures that say where: raise-site matching over frames, exception names as users write them, case.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.model.case import parse_case
from harness.model.signature import (
    Frame,
    FrameScope,
    RaisedError,
    RaiseSite,
    Signature,
    exception_name_matches,
    public_module,
)

SITE = "/venv/lib/python3.11/site-packages"
FORWARD = Frame(f"{SITE}/x_transformers/attend.py", "Attend.forward", "assert q.shape[-1] == k.shape[-1]", 120)
BUILD = Frame(f"{SITE}/x_transformers/x_transformers.py", "AttentionLayers.__init__", "assert depth > 0", 900)
REPLAY = Frame("/cases/c/replay.py", "replay", "model(x)", 12)


def bare_assertion(*frames: Frame) -> RaisedError:
    return RaisedError("builtins.AssertionError", "", type_chain=("builtins.AssertionError",), frames=frames)


@pytest.mark.parametrize(
    ("site", "frames", "expected"),
    [
        (RaiseSite(), (), True),  # no site given: anywhere, even without frames
        (RaiseSite(function="Attend.forward"), (REPLAY, FORWARD), True),
        (RaiseSite(function="forward"), (REPLAY, FORWARD), True),  # a dotted suffix of the qualified name
        (RaiseSite(function="ttend.forward"), (REPLAY, FORWARD), False),  # ... on whole parts only
        (RaiseSite(function="Attend.forward"), (REPLAY, BUILD), False),
        (RaiseSite(file="x_transformers/attend.py"), (REPLAY, FORWARD), True),
        (RaiseSite(file="attend.py"), (REPLAY, FORWARD), True),
        (RaiseSite(file="tend.py"), (REPLAY, FORWARD), False),
        (RaiseSite(line_regex=r"q\.shape"), (REPLAY, FORWARD), True),
        (RaiseSite(line_regex=r"depth"), (REPLAY, FORWARD), False),
        # Every part given must hold for the same frame.
        (RaiseSite(function="Attend.forward", line_regex="depth"), (BUILD, FORWARD), False),
        (RaiseSite(function="Attend.forward", file="x_transformers/attend.py"), (REPLAY, FORWARD), True),
        # innermost (the default) looks at the raising frame only; any looks at all of them.
        (RaiseSite(function="replay"), (REPLAY, FORWARD), False),
        (RaiseSite(function="replay", frame=FrameScope.ANY), (REPLAY, FORWARD), True),
        (RaiseSite(function="Attend.forward", frame=FrameScope.ANY), (REPLAY, BUILD), False),
        (RaiseSite(function="Attend.forward"), (), False),  # a site is asked for, and no frame says it
    ],
)
def test_raise_site(site: RaiseSite, frames: tuple[Frame, ...], expected: bool) -> None:
    assert site.matches(bare_assertion(*frames)) is expected


def test_a_bare_assertion_in_forward_is_told_from_one_while_building_the_model() -> None:
    signature = Signature("AssertionError", message_regex="^$", site=RaiseSite(function="Attend.forward"))
    assert signature.matches(bare_assertion(REPLAY, FORWARD))
    assert not signature.matches(bare_assertion(REPLAY, BUILD))


def test_rendering_substitutes_parameters_in_the_line_regex() -> None:
    signature = Signature("AssertionError", site=RaiseSite(line_regex=r"shape\[$axis\]")).render({"axis": -1})
    assert signature.site.line_regex == r"shape\[-1\]"
    assert signature.render({}).site == signature.site


PICKLING = RaisedError(
    "_pickle.PicklingError",
    "Can't pickle <function <lambda>>",
    type_chain=("_pickle.PicklingError", "_pickle.PickleError", "builtins.Exception", "builtins.BaseException"),
    aliases=("pickle.PicklingError", "pickle.PickleError"),
)
EINOPS = RaisedError(
    "einops._core.EinopsError",
    "shape",
    type_chain=("einops._core.EinopsError", "builtins.RuntimeError"),
    aliases=("einops.EinopsError",),
)


@pytest.mark.parametrize(
    ("configured", "error", "expected"),
    [
        ("_pickle.PicklingError", PICKLING, True),  # the qualified name
        ("PicklingError", PICKLING, True),  # the bare name
        ("pickle.PicklingError", PICKLING, True),  # leading underscores stripped / re-exported
        ("pickle.PickleError", PICKLING, True),  # a base, by its public name
        ("pickle.PicklingError", RaisedError("_pickle.PicklingError", "", type_chain=("_pickle.PicklingError",)), True),
        ("copyreg.PicklingError", PICKLING, False),
        ("pickle.UnpicklingError", PICKLING, False),
        ("einops.EinopsError", EINOPS, True),  # re-exported by the parent package (reported alias)
        (
            "einops.EinopsError",
            RaisedError("einops._core.EinopsError", "", type_chain=("einops._core.EinopsError",)),
            False,
        ),
        ("einops.core.EinopsError", EINOPS, True),  # every dotted part loses its underscores
        ("other.EinopsError", EINOPS, False),
        ("builtins.RuntimeError", EINOPS, True),
    ],
)
def test_exception_names_as_users_write_them(configured: str, error: RaisedError, expected: bool) -> None:
    assert exception_name_matches(configured, error) is expected


def test_public_module() -> None:
    assert public_module("_pickle") == "pickle"
    assert public_module("torch._C._nn") == "torch.C.nn"
    assert public_module("einops") == "einops"


def case_data(**signature: object) -> dict[str, object]:
    return {"id": "c", "packages": ["x"], "signature": {"exception": "AssertionError", **signature}}


def test_case_toml_reads_the_raise_site() -> None:
    case = parse_case(
        case_data(function="Attend.forward", file="x_transformers/attend.py", line_regex="assert", frame="any"),
        directory=Path("/cases/c"),
        content_hash="h",
    )
    assert case.signature.site == RaiseSite("Attend.forward", "x_transformers/attend.py", "assert", FrameScope.ANY)
    plain = parse_case(case_data(), directory=Path("/cases/c"), content_hash="h")
    assert plain.signature.site == RaiseSite() and not plain.signature.site.given


@pytest.mark.parametrize(
    ("signature", "words"),
    [
        ({"frame": "outermost"}, '"innermost" or "any"'),
        ({"line_regex": "("}, "signature.line_regex"),
        ({"function": 3}, "signature.function"),
    ],
)
def test_case_toml_rejects_a_bad_raise_site(signature: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_case(case_data(**signature), directory=Path("/cases/c"), content_hash="h")


def test_record_names_the_raise_site_only_when_the_message_is_weak() -> None:
    from harness.record.capture import case_toml  # noqa: PLC0415 - the recording side, next to its rule

    frames = (REPLAY, FORWARD)
    weak = case_toml("c", title="t", packages=["x"], error=bare_assertion(*frames), python="3.11", pins={})
    assert 'function = "Attend.forward"' in weak and 'file = "x_transformers/attend.py"' in weak
    assert '# line_regex = "assert\\\\ q\\\\.shape' in weak
    strong_error = RaisedError(
        "einops.EinopsError", "Error while processing rearrange-reduction pattern", frames=frames
    )
    strong = case_toml("c", title="t", packages=["x"], error=strong_error, python="3.11", pins={})
    assert "function =" not in strong and "file =" not in strong
    loose = RaisedError("builtins.AssertionError", "", frames=(REPLAY,))
    assert 'file = "replay.py"' in case_toml("c", title="t", packages=["x"], error=loose, python="3.11", pins={})
