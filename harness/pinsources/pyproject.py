"""PEP 621 ``pyproject.toml``: ``project.dependencies`` plus the named ``optional-dependencies`` groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from harness.errors import ConfigError
from harness.pinsources.interface import Entry, Location, MarkerEnvironment, load_toml, string_list
from harness.pinsources.requirements import requirement_entry


def parse_pyproject(
    text: str, source: str, *, extras: Sequence[str] = (), environment: MarkerEnvironment | None = None
) -> tuple[Entry, ...]:
    """The entries of the dependencies and of the groups in ``extras`` (and the groups those name in turn).

    A group's markers are evaluated with ``extra`` set to the group's name; the project's references to
    itself (``my-app[gpu]``) are followed, not returned.
    """
    project = _table(load_toml(text, source), "project", source, "no [project] table (PEP 621)")
    dependencies = project.get("dependencies")
    if dependencies is None and "dependencies" in string_list(project.get("dynamic", []), f"{source}: project.dynamic"):
        raise ConfigError(f"{source}: project.dependencies is dynamic; pass a requirements or lock file instead")
    optional = _table(project, "optional-dependencies", source, "", required=False)
    groups = {canonicalize_name(name): (name, value) for name, value in optional.items()}
    own_name = canonicalize_name(str(project.get("name", "")))

    entries = _group_entries(dependencies or [], source, "project.dependencies", "", environment)
    pending = [canonicalize_name(extra) for extra in extras]
    seen: set[NormalizedName] = set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in groups:
            known = ", ".join(sorted(name for name, _ in groups.values())) or "none"
            raise ConfigError(f"{source}: no optional-dependencies group {extra!r}; groups: {known}")
        raw_name, values = groups[extra]
        entries += _group_entries(values, source, f"project.optional-dependencies.{raw_name}", extra, environment)
        # A group may pull in other groups of the same project ("proj[cuda]"); follow those too.
        for requirement_text in values:
            pending += sorted(canonicalize_name(name) for name in _self_extras(requirement_text, own_name))
    return tuple(entry for entry in entries if entry.name != own_name)


def _group_entries(
    values: object, source: str, field: str, extra: str, environment: MarkerEnvironment | None
) -> list[Entry]:
    return [
        requirement_entry(text, Location(source, field=field, index=index), environment=environment, extra=extra)
        for index, text in enumerate(string_list(values, f"{source}: {field}"))
    ]


def _self_extras(text: str, own_name: NormalizedName) -> set[str]:
    requirement = Requirement(text)  # already validated by _group_entries
    return requirement.extras if canonicalize_name(requirement.name) == own_name else set()


def _table(data: Mapping[str, Any], key: str, source: str, missing: str, *, required: bool = True) -> dict[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {missing or f'{key}: expected a table'}")
    return value
