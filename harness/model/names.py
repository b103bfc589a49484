"""Case ids and package names, checked before any path is built from them."""

from __future__ import annotations

import re

from packaging.utils import InvalidName, NormalizedName, canonicalize_name

from harness.errors import ConfigError

CASE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CASE_ID_RULE = "letters, digits, '.', '_' or '-', starting with a letter or digit"
_PARENT_LIKE = re.compile(r"^\.+$")


def is_case_id(text: str) -> bool:
    """A case id names one folder: no separators, no `..`, nothing a shell or a file system treats specially."""
    return bool(CASE_ID_PATTERN.match(text)) and not _PARENT_LIKE.match(text)


def check_case_id(text: str, *, what: str = "case id") -> str:
    if not is_case_id(text):
        raise ConfigError(f"{what} {text!r}: expected {CASE_ID_RULE}")
    return text


def package_name(text: str, *, what: str = "package name") -> NormalizedName:
    """A valid project name (PEP 508), normalized; anything else, a path included, is a ConfigError."""
    try:
        return canonicalize_name(text, validate=True)
    except InvalidName:
        raise ConfigError(f"{what} {text!r} is not a valid package name (letters, digits, '.', '_' and '-')") from None
