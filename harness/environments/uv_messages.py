"""uv's wording: which failures are the resolver's proof, and the installer's explanation in a few lines."""

from __future__ import annotations

import re

from harness.environments.interface import InstallStage
from harness.model.outcome import Outcome, Verdict

# uv prints this line whenever the resolver proved the request impossible, as opposed to failing to fetch.
_NO_SOLUTION = re.compile(r"No solution found when resolving dependencies|requirements are unsatisfiable")


def classify_install_failure(stage: InstallStage, installer_output: str) -> Verdict:
    """UNRESOLVABLE only when the resolver proved it; every other failure to build is INSTALL_FAILED."""
    message = summarize_installer_output(installer_output)
    if stage is InstallStage.RESOLVE and _NO_SOLUTION.search(installer_output):
        return Verdict(Outcome.UNRESOLVABLE, message)
    return Verdict(Outcome.INSTALL_FAILED, message)


def summarize_installer_output(output: str, *, max_lines: int = 12) -> str:
    """The installer's own explanation, minus progress chatter, bounded so that records stay small.

    When the resolver explains a conflict ("Because x depends on y ..."), that explanation leads, folded to
    one line, since it is what a reader needs first (the summaries show only the first line).
    """
    # uv names the throw-away project that carries the requested pins; say what it means instead.
    output = output.replace("harness-probe depends on", "the probe pins")
    because = _RESOLVER_REASON.search(output)
    if because:
        reason = " ".join(because.group(0).replace("╰─▶", " ").split())
        return reason + "\n" + _plain_summary(output, max_lines)
    return _plain_summary(output, max_lines)


_RESOLVER_REASON = re.compile(r"Because .*?(?:unsatisfiable|cannot be used)\.", re.DOTALL)


def _plain_summary(output: str, max_lines: int) -> str:
    lines = [
        line.rstrip()
        for line in output.splitlines()
        if line.strip() and not line.lstrip().startswith(("Resolved ", "Prepared ", "Installed ", "Using "))
    ]
    if "error:" in output:
        start = next(i for i, line in enumerate(lines) if "error:" in line)
        lines = lines[start:]
    return "\n".join(lines[:max_lines])
