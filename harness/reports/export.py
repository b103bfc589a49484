"""Reproducer export: one probe record turned into a paste-ready Markdown bug report for an upstream issue.

A record's texts (the exception, the installer's output, the platform) and a case's title are untrusted: every
one goes through ``harness.markdown`` (inline text escaped, fenced text with control characters made visible),
so the report is safe both as Markdown on GitHub and when ``export`` prints it to a terminal.
"""

from __future__ import annotations

import keyword
import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from harness.bisection.search import SearchStatus
from harness.bisection.stored import StoredBisection
from harness.markdown import inline, one_line, visible
from harness.model.case import Case, Parameters
from harness.model.pins import Pin
from harness.model.probe_record import ProbeRecord
from harness.model.signature import ParamValue

SCRIPT_NAME = "repro.py"
_RUNS_ITSELF = re.compile(r"""^if\s+__name__\s*==\s*(['"])__main__\1\s*:""", re.MULTILINE)
_BACKTICK_RUN = re.compile(r"`+")


def install_command_for(
    record: ProbeRecord, *, order: Sequence[str] = (), extra_requirements: Sequence[str] = ()
) -> str:
    """``pip install 'x-transformers==1.42.21' 'einops==0.8.0' ...`` for the versions the probe asked for.

    ``order`` lists package names to put first (a case's ``packages``); the rest follow alphabetically.
    Indexes a package was pinned to (PyTorch's CPU wheels) are added as ``--extra-index-url`` without any
    credentials; the main index is left out, since it is usually PyPI or a private mirror of it that an
    upstream maintainer could not reach anyway.
    """
    words = ["pip", "install"]
    words += [_always_quoted(str(pin)) for pin in _ordered_pins(record.request.pins, order)]
    words += [_always_quoted(requirement) for requirement in extra_requirements]
    for url in _package_index_urls(record.sources):
        words += ["--extra-index-url", shlex.quote(url)]
    return " ".join(words)


def render_bug_report(
    case: Case,
    record: ProbeRecord,
    *,
    replay_source: str,
    install_command: str,
    bisection: StoredBisection | None,
) -> str:
    """Markdown for an upstream issue: title, steps with a standalone script, the traceback, the environment."""
    pins = _ordered_pins(record.request.pins, case.packages)
    python = record.python_full or record.request.python
    lines = [f"# {inline(case.title)}", ""]
    lines += [_summary(record, pins, python), ""]
    verdict = bisection_verdict(bisection) if bisection else None
    if bisection and verdict:
        package = bisection.package
        label = f"Bisection ({package})" if package else "Bisection"
        lines += [f"**{inline(label)}:** {inline(verdict)}.", ""]
    lines += ["## Steps to reproduce", ""]
    lines += [_fenced(f"{install_command}\npython {SCRIPT_NAME}", "sh"), ""]
    lines += [f"`{SCRIPT_NAME}`:", ""]
    lines += [_fenced(standalone_script(replay_source, record.request.parameters), "python"), ""]
    lines += ["## Observed", ""]
    lines += [_fenced(_observed(record), "text"), ""]
    lines += ["## Environment", ""]
    lines += _environment_table(record, python)
    lines += [""]
    if case.upstream:
        lines += [f"Related: {_link(case.upstream)}", ""]
    found = f", probed {inline(record.started_at, 60)}" if record.started_at else ""
    lines += [f"<sub>Found by the harness: case `{case.id}`, record `{record.key}`{found}.</sub>", ""]
    return "\n".join(lines)


def standalone_script(replay_source: str, parameters: Parameters) -> str:
    """The replay script, plus a ``__main__`` call with the probe's parameters unless it already runs itself."""
    source = replay_source.rstrip() + "\n"
    if _RUNS_ITSELF.search(source):
        return source
    return f'{source}\n\nif __name__ == "__main__":\n    {replay_call(parameters)}\n'


def replay_call(parameters: Parameters) -> str:
    """``replay(dim=32, pattern='n -> n 1')``; names that are not identifiers go through ``**{...}``."""
    keyword = [f"{name}={_literal(value)}" for name, value in parameters if _is_keyword_name(name)]
    other = [f"{name!r}: {_literal(value)}" for name, value in parameters if not _is_keyword_name(name)]
    arguments = [*keyword, *(["**{" + ", ".join(other) + "}"] if other else [])]
    return f"replay({', '.join(arguments)})"


def bisection_verdict(bisection: StoredBisection) -> str | None:
    """One phrase, e.g. "introduced in 1.42.21 (1.42.20 last good); fixed in 1.43.2", or None if nothing is known.

    Older results and aborted runs lack some of it; the phrase says what there is.
    """
    parts = []
    regression, fix = bisection.regression, bisection.fix
    if regression is not None and regression.status is SearchStatus.UNCONFIRMED:
        parts.append(f"start unconfirmed: one of {', '.join(regression.candidates) or 'no release known'}")
    elif regression is not None:
        first_bad, last_good = regression.after, regression.before
        if first_bad:
            since = f"{last_good} last good" if last_good else "bad in the earliest release tested"
            parts.append(f"introduced in {first_bad} ({since})")
        elif regression.candidates:
            after = f" (after {last_good})" if last_good else ""
            parts.append(f"introduced in one of {', '.join(regression.candidates)}{after}")
    if fix is not None:
        if fix.status is SearchStatus.UNCONFIRMED:
            parts.append(f"fix unconfirmed: one of {', '.join(fix.candidates) or 'no release known'}")
        elif fix.after:
            parts.append(f"fixed in {fix.after}")
        elif fix.candidates:
            parts.append(f"fixed in one of {', '.join(fix.candidates)}")
        elif fix.before:
            parts.append(f"not fixed as of {fix.before}")
    return "; ".join(parts) or None


def fence_for(text: str) -> str:
    """A code fence longer than any run of backticks in ``text``, so the text cannot close it early."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def _fenced(text: str, language: str) -> str:
    # Inside a fence Markdown is inert, but a terminal still obeys ESC and the eye still misreads U+202E.
    body = visible(text).rstrip("\n")
    fence = fence_for(body)
    return f"{fence}{language}\n{body}\n{fence}"


def _summary(record: ProbeRecord, pins: Sequence[Pin], python: str) -> str:
    versions = ", ".join(f"`{pin}`" for pin in pins) or "the default versions"
    where = f"Python {python}" + (f" on {record.platform}" if record.platform else "")
    where = inline(where)
    if record.error_type:
        return f"The script below raises {_code(record.error_type)} with {versions} ({where})."
    return f"With {versions} ({where}) the script below gives: {inline(record.detail)}"


def _code(text: str) -> str:
    """An inline code span that no backtick in ``text`` can close early, on one visible line."""
    body = visible(one_line(text, 200))
    fence = "`" * (max((len(run) for run in _BACKTICK_RUN.findall(body)), default=0) + 1)
    padded = f" {body} " if body.startswith("`") or body.endswith("`") else body
    return f"{fence}{padded}{fence}"


def _link(url: str) -> str:
    # Only a plain web address is left as a link; anything else is shown as text.
    if re.fullmatch(r"https?://[^\s<>\x00-\x1f\x7f-\x9f]+", url) and visible(url) == url:
        return url
    return inline(url)


def _observed(record: ProbeRecord) -> str:
    error_line = f"{record.error_type}: {record.error_message or ''}".rstrip() if record.error_type else ""
    if record.traceback_tail:
        tail = record.traceback_tail.rstrip("\n")
        # A tail cut short may have lost the final line; the exception itself is what maintainers search for.
        if error_line and record.error_type and record.error_type.rpartition(".")[2] not in tail:
            tail = f"{tail}\n{error_line}"
        return tail
    if error_line:
        return error_line
    return record.installer_message or record.detail


def _environment_table(record: ProbeRecord, python: str) -> list[str]:
    requested = {pin.name for pin in record.request.pins}
    pins = record.resolved or record.request.pins
    rows = ["| package | version |", "| --- | --- |"]
    for pin in sorted(pins):
        name = f"**{inline(pin.name)}**" if pin.name in requested else inline(pin.name)
        rows.append(f"| {name} | {inline(str(pin.version))} |")
    rows.append(f"| Python | {inline(python)} |")
    if record.platform:
        rows.append(f"| platform | {inline(record.platform)} |")
    return rows


def _ordered_pins(pins: Iterable[Pin], order: Sequence[str]) -> list[Pin]:
    rank = {canonicalize_name(name): index for index, name in enumerate(order)}
    return sorted(pins, key=lambda pin: (rank.get(pin.name, len(rank)), pin.name))


def _always_quoted(word: str) -> str:
    # shlex leaves "a==1" bare; quote it anyway so "a>=1" edits and zsh's "=" expansion stay harmless.
    quoted = shlex.quote(word)
    return quoted if quoted != word else f"'{word}'"


def _package_index_urls(sources: Mapping[str, Any]) -> list[str]:
    indexes = sources.get("package_indexes")
    urls = [str(url) for url in indexes.values()] if isinstance(indexes, Mapping) else []
    cleaned = [_without_credentials(url) for url in urls]
    return list(dict.fromkeys(url for url in cleaned if url))


def _without_credentials(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def _literal(value: ParamValue) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    return repr(value)


def _is_keyword_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)
