"""The boundary confirmation as the report shows it: the JSON file's value and the Markdown section."""

from __future__ import annotations

from harness.bisection.confirm import Confirmation, Probed, Reprobe, pool
from harness.bisection.stored import StoredConfirmation, StoredReprobe
from harness.markdown import inline


def stored_confirmation(confirmation: Confirmation) -> StoredConfirmation:
    return StoredConfirmation(confirmation.runs, tuple(_stored(reprobe) for reprobe in confirmation.reprobes))


def probe_text(probe: Probed) -> str:
    """An outcome with its counts where the probe made them: ``FLAKY 2/6``, ``PASSED 0/3``."""
    return probe.outcome.value + (f" {probe.repeats}" if probe.repeats is not None else "")


def confirmation_to_markdown(confirmation: Confirmation) -> str:
    """The section listing each re-probe, and whether the steps stood."""
    verdict = (
        "every step stood"
        if confirmation.confirmed
        else "a re-probe contradicted a step: it is reported as unconfirmed, widened to the releases still known"
    )
    lines = [
        "## Boundary confirmation",
        "",
        f"The releases either side of each step were probed again with {confirmation.runs} runs each, and the runs "
        f"pooled with the search's: {verdict}.",
        "",
        "| release | taken as | search's probe | probed again | pooled | counts as | stands |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(reprobe) for reprobe in confirmation.reprobes]
    return "\n".join(lines) + "\n"


def _row(reprobe: Reprobe) -> str:
    pooled = pool(reprobe.first, reprobe.again)
    return (
        f"| {inline(str(reprobe.version))} | {reprobe.side} | {probe_text(reprobe.first)} | "
        f"{probe_text(reprobe.again)} | {'' if pooled is None else pooled} | {reprobe.verdict.value} | "
        f"{'yes' if reprobe.confirmed else '**no**'} |"
    )


def _stored(reprobe: Reprobe) -> StoredReprobe:
    pooled = pool(reprobe.first, reprobe.again)
    return StoredReprobe(
        version=str(reprobe.version),
        side=reprobe.side,
        expected=reprobe.expected,
        verdict=reprobe.verdict,
        first_text=probe_text(reprobe.first),
        again_text=probe_text(reprobe.again),
        pooled=None if pooled is None else str(pooled),
    )
