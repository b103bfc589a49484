"""The version matrix: ``versions.toml`` as values, and its pure expansion into combinations to probe."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from harness.errors import ConfigError
from harness.model.fields import Field, Fields, Kind, Table, Value
from harness.model.names import package_name
from harness.model.pins import Pin

LATEST = "latest"
PYTHON_AXIS = "python"
"""The Python axis's name in session labels and [[exclude]] tables."""
DEFAULT_PYTHON = "3.11"
# Looser than PEP 440 (packaging then parses each version), but it rejects what can never be one.
_VERSION_OR_LATEST = r"^(latest|\s*[vV]?[0-9][0-9A-Za-z.!+_-]*\s*)$"
_NOT_A_VERSION = 'exact versions or "latest"; {value!r} is neither'
_EXCLUDE = "an array of tables ([[exclude]])"

AXIS_TABLE = Table(
    (
        Field(
            "versions",
            Value(
                Kind.LIST,
                'Exact versions and/or "latest" (the newest final release on the index).',
                items=Value(Kind.STRING, pattern=_VERSION_OR_LATEST, invalid=_NOT_A_VERSION),
            ),
        ),
        Field("range", Value(Kind.STRING, 'Every final release in this range, e.g. ">=1.42,<1.44".')),
        Field(
            "index",
            Value(
                Kind.STRING, "An index this package must come from alone, e.g. https://download.pytorch.org/whl/cpu."
            ),
        ),
    ),
    one_of=("versions", "range"),
    one_of_invalid="a list of versions, or a 'range' (at least one of them)",
)

SOURCES_TABLE = Table(
    (
        Field("index-url", Value(Kind.STRING, "The main package index (PEP 503 simple API), instead of PyPI.")),
        Field("extra-index-urls", Value(Kind.LIST, "More indexes to look in.", items=Value(Kind.STRING))),
        Field("find-links", Value(Kind.LIST, "Folders or pages of wheels to look in.", items=Value(Kind.STRING))),
        Field("index-strategy", Value(Kind.STRING, "uv's --index-strategy, e.g. unsafe-best-match.")),
        Field(
            "carry-pip-config",
            Value(Kind.BOOLEAN, "Carry pip's configured indexes and find-links over to uv.", default=True),
        ),
    )
)

MATRIX_TABLE = Table(
    (
        Field(
            "python",
            Value(
                Kind.STRING,
                "The Python every environment is built with, as uv finds it; a list makes Python a matrix axis "
                '(python = ["3.10", "3.11", "3.12"]).',
                default=DEFAULT_PYTHON,
                or_list=True,
            ),
        ),
        Field(
            "missing-python",
            Value(
                Kind.STRING,
                'A Python of the axis that uv cannot find: "error" stops the run with one line; "record" records '
                "its combinations as INSTALL_FAILED and runs the others.",
                default="error",
                pattern=r"^(error|record)$",
                invalid='"error" or "record"; got {value!r}',
            ),
        ),
        Field(
            "packages",
            Value(
                Kind.TABLE,
                "One axis per package: [packages.NAME] with versions and/or a range.",
                non_empty=True,
                invalid="no [packages.NAME] tables; declare at least one package axis",
                invalid_is_whole=True,
                table=Table((), other=Value(Kind.TABLE, "One package axis.", table=AXIS_TABLE)),
            ),
            required=True,
        ),
        Field(
            "exclude",
            Value(
                Kind.LIST,
                "Combinations to skip: each [[exclude]] maps package names to versions or specifiers.",
                wrong_type=_EXCLUDE,
                wrong_item=_EXCLUDE,
                items=Value(
                    Kind.TABLE,
                    non_empty=True,
                    invalid="at least one package = specifier",
                    table=Table(
                        (),
                        other=Value(
                            Kind.STRING,
                            'A version ("0.8.0") or a specifier ("<0.8").',
                            wrong_type='a version specifier string such as "<0.8"',
                        ),
                    ),
                ),
            ),
        ),
        Field("sources", Value(Kind.TABLE, "Where packages come from.", table=SOURCES_TABLE)),
    )
)
"""Every field of versions.toml: the validator below and docs/schema/versions.schema.json both come from it."""


class MissingPython(enum.Enum):
    """What a Python of the axis that no interpreter on the machine matches does to the run."""

    ERROR = "error"
    RECORD = "record"


@dataclass(frozen=True)
class PackageAxis:
    name: NormalizedName
    versions: tuple[str, ...]
    """Exact versions and/or the word ``latest``."""
    range: SpecifierSet | None = None
    """Every final release in this range, as listed by the index."""
    index: str | None = None
    """An index this package must come from alone (uv's explicit index), e.g. PyTorch's CPU wheels."""

    @property
    def needs_index(self) -> bool:
        return self.range is not None or LATEST in self.versions


@dataclass(frozen=True)
class Exclusion:
    """Skip every combination in which each named package's version is in its specifier."""

    specifiers: tuple[tuple[NormalizedName, SpecifierSet], ...]

    def excludes(self, combination: Combination) -> bool:
        versions: dict[str, Version] = {pin.name: pin.version for pin in combination.pins}
        python = _python_version(combination.python)
        if python is not None:
            versions[PYTHON_AXIS] = python
        return all(name in versions and versions[name] in specifier for name, specifier in self.specifiers)


def _python_version(python: str | None) -> Version | None:
    # uv also takes requests such as "pypy3.10" or a path; only a plain version can match a specifier.
    try:
        return Version(python) if python is not None else None
    except InvalidVersion:
        return None


@dataclass(frozen=True)
class SourcesSpec:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    index_strategy: str | None = None
    carry_pip_config: bool = True


@dataclass(frozen=True)
class MatrixSpec:
    python: str
    """The Python of every probe without a Python axis (the axis's first otherwise): bisection and culprit use it."""
    axes: tuple[PackageAxis, ...]
    exclusions: tuple[Exclusion, ...] = ()
    sources: SourcesSpec = SourcesSpec()
    source_file: str = "versions.toml"
    pythons: tuple[str, ...] = ()
    """The Python axis, when ``python`` is a list; empty when it is one string (then Python is no axis)."""
    missing_python: MissingPython = MissingPython.ERROR

    @property
    def package_names(self) -> tuple[NormalizedName, ...]:
        return tuple(axis.name for axis in self.axes)

    def axis(self, name: str) -> PackageAxis | None:
        wanted = canonicalize_name(name)
        return next((axis for axis in self.axes if axis.name == wanted), None)


@dataclass(frozen=True)
class Combination:
    """One point of the matrix: a pin for each package axis, in axis order."""

    pins: tuple[Pin, ...]
    python: str | None = None
    """This point's Python, when versions.toml has a Python axis; None: the matrix's one Python."""

    @property
    def label(self) -> str:
        """The id of its Nox session, ``repro(LABEL)``: ``python=3.12,`` first when Python is an axis."""
        pins = ",".join(str(pin) for pin in self.pins)
        return pins if self.python is None else f"{PYTHON_AXIS}={self.python},{pins}"

    def version_of(self, name: NormalizedName) -> Version | None:
        return next((pin.version for pin in self.pins if pin.name == name), None)


@dataclass(frozen=True)
class Matrix:
    combinations: tuple[Combination, ...]
    excluded: tuple[Combination, ...]


def parse_matrix(data: Mapping[str, Any], source: str = "versions.toml") -> MatrixSpec:
    fields = Fields(data, source)
    fields.check(MATRIX_TABLE)
    pythons = fields.strings("python") if isinstance(data.get("python"), list) else ()
    python = pythons[0] if pythons else fields.get("python", str, DEFAULT_PYTHON) or DEFAULT_PYTHON
    packages = fields.table("packages")
    axes = tuple(_parse_axis(name, packages, source) for name in packages.data)
    exclusions = tuple(_parse_exclusion(i, item, source) for i, item in enumerate(fields.get("exclude", list) or []))
    known = {axis.name for axis in axes} | ({PYTHON_AXIS} if pythons else set())
    for exclusion in exclusions:
        for name, _ in exclusion.specifiers:
            if name not in known:
                raise ConfigError(f"{source}: [[exclude]] names {name!r}, which is not a package in [packages]")
    src = fields.table("sources")
    sources = SourcesSpec(
        index_url=src.get("index-url", str),
        extra_index_urls=src.strings("extra-index-urls"),
        find_links=src.strings("find-links"),
        index_strategy=src.get("index-strategy", str),
        carry_pip_config=bool(src.get("carry-pip-config", bool, True)),
    )
    return MatrixSpec(
        python=python,
        axes=axes,
        exclusions=exclusions,
        sources=sources,
        source_file=source,
        pythons=pythons,
        missing_python=MissingPython(fields.get("missing-python", str, MissingPython.ERROR.value)),
    )


def _parse_axis(raw_name: str, packages: Fields, source: str) -> PackageAxis:
    # Checked first: the name becomes part of cache paths (a listing per package), so "/some/dir" must stop here.
    name = package_name(raw_name, what=f"{source}: [packages.NAME]")
    table = packages.table(raw_name)
    versions = table.strings("versions")
    for text in versions:
        if text != LATEST:
            try:
                Version(text)
            except InvalidVersion:
                raise table.error("versions", _NOT_A_VERSION.format(value=text)) from None
    range_text = table.get("range", str)
    try:
        specifier = SpecifierSet(range_text) if range_text is not None else None
    except InvalidSpecifier:
        raise table.error("range", f'a version specifier such as ">=1.42,<1.44"; got {range_text!r}') from None
    return PackageAxis(name, versions, specifier, table.get("index", str))


def _parse_exclusion(position: int, item: Mapping[str, Any], source: str) -> Exclusion:
    specifiers = []
    for name, text in item.items():
        where = f"{source}: field 'exclude[{position}].{name}'"
        try:
            spec = SpecifierSet(text) if text[:1] in "<>=!~" else SpecifierSet(f"=={text}")
        except InvalidSpecifier:
            raise ConfigError(f"{where}: expected a version or specifier; got {text!r}") from None
        specifiers.append((package_name(name, what=f"{where}: package"), spec))
    return Exclusion(tuple(specifiers))


def select_versions(axis: PackageAxis, releases: Sequence[Version] | None, source: str) -> tuple[Version, ...]:
    """The versions one axis stands for; ``releases`` is the index's list (None when it is not needed)."""
    chosen: list[Version] = []
    known = sorted(releases) if releases is not None else None
    for text in axis.versions:
        if text == LATEST:
            assert known is not None, "the index must be consulted for 'latest'"
            finals = [v for v in known if not v.is_prerelease]
            if not finals:
                raise ConfigError(f"{source}: {axis.name} has no final release on the index")
            chosen.append(finals[-1])
            continue
        version = Version(text)
        if known is not None and not any(_same_release(version, v) for v in known):
            raise ConfigError(
                f"{source}: {axis.name} {text} is not a release on the index; nearest: {_nearest(version, known)}"
            )
        chosen.append(version)
    if axis.range is not None:
        assert known is not None
        chosen.extend(axis.range.filter(known))
    return tuple(sorted(set(chosen)))


def _same_release(wanted: Version, listed: Version) -> bool:
    # A find-links folder may hold 2.13.0+cpu where the user writes 2.13.0; pip and uv accept it for ==.
    return listed == wanted or (wanted.local is None and Version(listed.public) == wanted)


def _nearest(version: Version, known: Sequence[Version], count: int = 3) -> str:
    if not known:
        return "(none listed)"
    ranked = sorted(known, key=lambda v: (abs(known.index(v) - _insertion(version, known)), v))
    return ", ".join(str(v) for v in sorted(ranked[:count]))


def _insertion(version: Version, known: Sequence[Version]) -> int:
    return sum(1 for v in known if v < version)


def expand(spec: MatrixSpec, releases: Mapping[NormalizedName, Sequence[Version]]) -> Matrix:
    """Cartesian product of the axes' versions, minus exclusions, in a stable order.

    Python is the outermost axis, so that the probes of one interpreter run together (and share fork workers).
    """
    per_axis = [
        [Pin(axis.name, v) for v in select_versions(axis, releases.get(axis.name), spec.source_file)]
        for axis in spec.axes
    ]
    pythons: Sequence[str | None] = spec.pythons or (None,)
    included: list[Combination] = []
    excluded: list[Combination] = []
    for python in pythons:
        for pins in itertools.product(*per_axis):
            combination = Combination(tuple(pins), python)
            target = excluded if any(e.excludes(combination) for e in spec.exclusions) else included
            target.append(combination)
    return Matrix(tuple(included), tuple(excluded))
