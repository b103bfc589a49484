"""A bisection's commit phase on the page: the first bad and the first fixed commit, each with its subject,
author date and a link to it on its forge."""

from __future__ import annotations

import re

from harness.bisection.search import Direction
from harness.bisection.stored import StoredBisection
from harness.bisection.stored_commits import StoredCommit, StoredCommits
from harness.reports.html.style import esc, plural

_TITLES = {Direction.REGRESSION: "First bad commit", Direction.FIX: "First fixed commit"}


def commit_windows(bisection: StoredBisection) -> str:
    """Both windows of the commit phase, or nothing when the bisection had no ``--git-repo``."""
    windows = bisection.commit_windows
    if not windows:
        return ""
    return f'<div class="commits"><h3>Commits</h3>{"".join(_window(window) for window in windows)}</div>'


def _window(window: StoredCommits) -> str:
    title = _TITLES[window.direction]
    between = f"{esc(window.between[0])} → {esc(window.between[1])}"
    first = window.first
    if first is not None:
        found = f"<p><strong>{title}:</strong> {_commit(first)}</p>"
    else:
        items = "".join(f"<li>{_commit(candidate)}</li>" for candidate in window.candidates)
        found = f"<p><strong>{title}:</strong> {esc(window.message) or 'not found'}</p>" + (
            f"<ul>{items}</ul>" if items else ""
        )
    walk = {
        True: "first-parent line only: a merge counts as one commit (--all-commits looks inside merged branches)",
        False: "every commit, merged branches included",
        None: "",
    }[window.first_parent]
    probes = len(window.probes)
    meta = f"{probes} commit probe{plural(probes)}" + (f" · {walk}" if walk else "")
    return (
        f'<div class="commit-window" data-direction="{window.direction.value}">'
        f'<h4>{between}</h4>{found}<p class="muted">{esc(meta)}</p></div>'
    )


def _commit(commit: StoredCommit) -> str:
    sha = f'<code class="mono">{esc(commit.sha[:12])}</code>'
    # Only web links become links: a report file copied from elsewhere could carry anything.
    if commit.url and re.match(r"^https://", commit.url, re.IGNORECASE):
        sha = f'<a href="{esc(commit.url)}" rel="noreferrer noopener">{sha}</a>'
    date = f' <span class="date">{esc(commit.authored[:10])}</span>' if commit.authored else ""
    return f"{sha} {esc(commit.subject)}{date}"
