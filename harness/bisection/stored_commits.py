"""The commit phase's part of the bisection report file: each window's commits as typed values, and their codec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.bisection.search import Direction, SearchStatus
from harness.bisection.tolerant import enum, list_of, mapping_of, mappings, string, text_of, texts


@dataclass(frozen=True)
class StoredCommit:
    sha: str
    subject: str
    authored: str | None = None
    """The author date (ISO 8601)."""
    url: str | None = None
    """The commit on its forge (GitHub, Codeberg, GitLab), where the repository is known."""


@dataclass(frozen=True)
class StoredCommitProbe:
    sha: str
    outcome_text: str


@dataclass(frozen=True)
class StoredCommits:
    """One window of the commit phase: the first commit after the step between two releases (the first bad one
    for a regression, the fixing one for a fix), or the candidates skips left."""

    between: tuple[str, str]
    status: SearchStatus | None
    message: str
    first_bad: StoredCommit | None
    """For a regression: the first bad commit."""
    candidates: tuple[StoredCommit, ...]
    probes: tuple[StoredCommitProbe, ...]
    direction: Direction = Direction.REGRESSION
    first_fixed: StoredCommit | None = None
    """For a fix: the first fixed commit."""
    first_parent: bool | None = None
    """Only the first-parent line was bisected (merges as single steps); None in older files."""

    @property
    def first(self) -> StoredCommit | None:
        """The first commit after the step, whichever the direction."""
        return self.first_bad if self.direction is Direction.REGRESSION else self.first_fixed


def commits_json(commits: StoredCommits) -> dict[str, Any]:
    first_name = "first_bad" if commits.direction is Direction.REGRESSION else "first_fixed"
    shown = [c for c in (commits.first, *commits.candidates) if c is not None]
    return {
        "direction": commits.direction.value,
        "between": list(commits.between),
        "status": None if commits.status is None else commits.status.value,
        "message": commits.message,
        first_name: commit_json(commits.first),
        "candidates": [commit_json(c) for c in commits.candidates],
        "probes": [{"sha": p.sha, "outcome": p.outcome_text} for p in commits.probes],
        "first_parent": commits.first_parent,
        # Beside the commits rather than inside them, so each commit stays {sha, subject} as readers expect.
        "authored": {c.sha: c.authored for c in shown if c.authored},
        "urls": {c.sha: c.url for c in shown if c.url},
    }


def commit_json(commit: StoredCommit | None) -> dict[str, Any] | None:
    return None if commit is None else {"sha": commit.sha, "subject": commit.subject}


# --- JSON in -----------------------------------------------------------------------------------------------------


def commits_from(value: object, direction: Direction) -> StoredCommits | None:
    if not isinstance(value, Mapping):
        return None
    between = texts(value.get("between"))
    first_parent = value.get("first_parent")
    authored, urls = mapping_of(value.get("authored")), mapping_of(value.get("urls"))

    def _commit(item: object) -> StoredCommit | None:
        found = plain_commit(item)
        if found is None:
            return None
        return replace(found, authored=text_of(authored.get(found.sha)), url=text_of(urls.get(found.sha)))

    return StoredCommits(
        direction=direction,
        first_parent=first_parent if isinstance(first_parent, bool) else None,
        between=(between[0], between[1]) if len(between) == 2 else ("", ""),
        status=enum(SearchStatus, value.get("status")),
        message=string(value.get("message")) or "",
        first_bad=_commit(value.get("first_bad")) if direction is Direction.REGRESSION else None,
        first_fixed=_commit(value.get("first_fixed")) if direction is Direction.FIX else None,
        candidates=tuple(c for c in map(_commit, list_of(value.get("candidates"))) if c is not None),
        probes=tuple(
            StoredCommitProbe(sha, str(item.get("outcome", "")))
            for item in mappings(value.get("probes"))
            if (sha := text_of(item.get("sha")))
        ),
    )


def plain_commit(value: object) -> StoredCommit | None:
    if not isinstance(value, Mapping) or not text_of(value.get("sha")):
        return None
    return StoredCommit(str(value["sha"]).strip(), string(value.get("subject")) or "")
