"""Compare links between two release tags, and links to one commit, on the forges whose link forms we know."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from packaging.version import Version

from harness.bisection.search import SearchResult, SearchStatus

_COMPARE_FORMS = {
    "github.com": "https://github.com/{path}/compare/{older}...{newer}",
    "www.github.com": "https://github.com/{path}/compare/{older}...{newer}",
    # Forgejo and Gitea (Codeberg) spell it as GitHub does; GitLab puts it under /-/.
    "codeberg.org": "https://codeberg.org/{path}/compare/{older}...{newer}",
    "gitlab.com": "https://gitlab.com/{path}/-/compare/{older}...{newer}",
}
_COMMIT_FORMS = {
    "github.com": "https://github.com/{path}/commit/{sha}",
    "www.github.com": "https://github.com/{path}/commit/{sha}",
    "codeberg.org": "https://codeberg.org/{path}/commit/{sha}",
    "gitlab.com": "https://gitlab.com/{path}/-/commit/{sha}",
}
_REPOSITORY_PATH = re.compile(r"^/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def compare_url(repository_url: str, older: Version, newer: Version) -> str | None:
    """A compare link between two release tags, assuming tags named like the bare version (``1.2.3``).

    None for a forge whose compare links we do not know.
    """
    parts = urlsplit(repository_url.strip())
    form = _COMPARE_FORMS.get(parts.netloc.lower()) if parts.scheme in ("http", "https") else None
    match = _REPOSITORY_PATH.match(parts.path)
    if form is None or match is None:
        return None
    return form.format(path=match.group(1), older=older, newer=newer)


def commit_url(repository_url: str, sha: str) -> str | None:
    """A link to one commit; None for a forge whose commit links we do not know, or a sha that is not hex."""
    parts = urlsplit(repository_url.strip())
    form = _COMMIT_FORMS.get(parts.netloc.lower()) if parts.scheme in ("http", "https") else None
    match = _REPOSITORY_PATH.match(parts.path)
    if form is None or match is None or not re.fullmatch(r"[0-9a-fA-F]{7,64}", sha):
        return None
    return form.format(path=match.group(1), sha=sha)


def result_compare_url(result: SearchResult[Version], repository_url: str | None) -> str | None:
    """The compare link for a found (or narrowed) step; None without both ends or a known forge."""
    if repository_url is None or result.before is None or result.after is None:
        return None
    if result.status not in (SearchStatus.FOUND, SearchStatus.AMBIGUOUS):
        return None
    return compare_url(repository_url, result.before, result.after)
