"""uv's wording: which failures are the resolver's proof, and the installer's explanation in a few lines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from harness.environments.interface import InstallStage
from harness.model.outcome import Classification, Outcome

# uv prints this line whenever the resolver proved the request impossible, as opposed to failing to fetch.
_NO_SOLUTION = re.compile(r"No solution found when resolving dependencies|requirements are unsatisfiable")
# What uv says when the packages could not be reached at this moment. Offline, uv words a cache miss as a
# resolver conclusion ("Because x was not found in the cache ... unsatisfiable"), but it proves nothing about
# the index, so it is an accident; so is every network failure and an installer that could not read a file.
# "Failed to download and build" heads every sdist build failure, network or not: its causes below decide.
_UNAVAILABLE = re.compile(
    r"was not found in the cache|network was disabled|Network connectivity is disabled|Failed to fetch"
    r"|Failed to download(?! and build)|Request failed after|error sending request|tcp connect error"
    r"|Connection (?:refused|reset)|dns error|failed to lookup address|operation timed out|HTTP status server error"
    r"|Failed to read from the distribution cache"
)


def classify_install_failure(
    stage: InstallStage, installer_output: str, *, interrupted: bool = False, missing: Sequence[str] = ()
) -> Classification:
    """A verdict only when the failure says something about the versions; otherwise UNAVAILABLE.

    UNRESOLVABLE needs the resolver's proof. ``interrupted`` (the installer timed out or was killed) and
    ``missing`` (local index folders or files that do not exist: a "not found" then proves nothing) make the
    failure UNAVAILABLE, as does uv saying it could not reach the packages; every other failure is INSTALL_FAILED.
    """
    message = summarize_installer_output(installer_output)
    if missing:
        return Classification(Outcome.UNAVAILABLE, f"not found: {', '.join(missing)}\n{message}".rstrip())
    if interrupted:
        return Classification(
            Outcome.UNAVAILABLE, f"the {stage.value} step was interrupted or timed out\n{message}".rstrip()
        )
    if _UNAVAILABLE.search(installer_output):
        return Classification(Outcome.UNAVAILABLE, message)
    if stage is InstallStage.RESOLVE and _NO_SOLUTION.search(installer_output):
        return Classification(Outcome.UNRESOLVABLE, message)
    return Classification(Outcome.INSTALL_FAILED, message)


# How uv says a package has no such release, or none at all: "there is no version of x==9", "only x<=1.2 is
# available", "x was not found in the package registry".
_ABSENT = re.compile(
    r"(?:there is no version of|only) ([A-Za-z0-9][A-Za-z0-9._-]*)|([A-Za-z0-9][A-Za-z0-9._-]*) was not found"
)


def absent_packages(installer_output: str) -> set[str]:
    """The packages (canonical names) that uv's explanation says lack the release asked for."""
    return {canonicalize_name(a or b) for a, b in _ABSENT.findall(installer_output)}


def missing_locations(locations: Iterable[str]) -> tuple[str, ...]:
    """The local folders and files among ``locations`` (``file://`` URLs or plain paths) that do not exist."""
    missing = []
    for location in locations:
        parts = urlsplit(location)
        if parts.scheme == "file":
            path = Path(unquote(parts.path))
        elif parts.scheme:
            continue  # a web index (or a source tree named by the lock): only uv can tell whether it answers
        else:
            path = Path(location)
        if not path.exists():
            missing.append(location)
    return tuple(dict.fromkeys(missing))


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
