"""Signature matching against the wordings different einops releases use for the same failure."""

from __future__ import annotations

import pytest

from harness.model.signature import RaisedError, Signature

EINOPS_08 = (
    ' Error while processing rearrange-reduction pattern "n -> n 1".\n'
    " Input tensor shape: torch.Size([1, 32]). Additional info: {}.\n"
    " Wrong shape: expected 1 dims. Received 2-dim tensor."
)
EINOPS_06 = (
    ' Error while processing rearrange-reduction pattern "n -> n 1".\n'
    " Input tensor shape: torch.Size([1, 32]). Additional info: {}.\n"
    " Expected 1 dimensions, got 2"
)

RECORDED = Signature(
    exception_type="einops.EinopsError",
    message_contains=('rearrange-reduction pattern "n -> n 1"',),
    message_regex=r"Input tensor shape: torch\.Size\(\[\d+, $seq\]\)",
).render({"batch": 1, "seq": 32})


def einops_error(message: str) -> RaisedError:
    return RaisedError("einops.EinopsError", message, type_chain=("einops.EinopsError", "builtins.RuntimeError"))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (einops_error(EINOPS_08), True),
        (einops_error(EINOPS_06), True),
        (einops_error(EINOPS_08.replace("torch.Size([1, 32])", "torch.Size([1, 64])")), False),
        (einops_error(EINOPS_08.replace('"n -> n 1"', '"b n -> b n 1"')), False),
        (RaisedError("builtins.ValueError", EINOPS_08), False),
        # Re-wrapped messages still match: white space is folded before comparing fragments.
        (einops_error(EINOPS_08.replace("pattern ", "pattern\n   ")), True),
    ],
    ids=["einops-0.8", "einops-0.6", "other-seq", "other-pattern", "other-type", "rewrapped"],
)
def test_recorded_signature(error: RaisedError, expected: bool) -> None:
    assert RECORDED.matches(error) is expected


@pytest.mark.parametrize(
    ("declared", "raised", "chain", "expected"),
    [
        ("EinopsError", "einops.EinopsError", (), True),
        ("einops.EinopsError", "einops.EinopsError", (), True),
        ("einops.EinopsError", "other.EinopsError", (), False),
        ("builtins.RuntimeError", "einops.EinopsError", ("einops.EinopsError", "builtins.RuntimeError"), True),
        ("KeyError", "builtins.IndexError", ("builtins.IndexError", "builtins.LookupError"), False),
    ],
)
def test_exception_type_matching(declared: str, raised: str, chain: tuple[str, ...], expected: bool) -> None:
    assert Signature(declared).matches(RaisedError(raised, "message", type_chain=chain)) is expected


def test_render_substitutes_parameters_and_keeps_unknown_dollars() -> None:
    rendered = Signature("E", ("shape [$batch, $seq] costs $5",), r"x$").render({"batch": 2, "seq": 1024})
    assert rendered.message_contains == ("shape [2, 1024] costs $5",)
    assert rendered.message_regex == "x$"
