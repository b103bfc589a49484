"""A recorded failure's signature and the pure test of whether a raised error matches it.

A signature names what stays stable across releases (exception type, fragments of the message such as the
einops pattern and the input shape), never one release's exact wording, so that einops 0.6's
"Expected 1 dimensions, got 2" and 0.8's "Wrong shape: expected 1 dims" are the same failure.

Exception names are matched as users write them. A configured name matches a raised class (or one of its
bases) when any of these holds:
- it is the class's qualified name (``_pickle.PicklingError``), or it is bare and equals the class's bare name;
- its bare name is the class's and its module is the class's module with the leading underscores of every
  dotted part stripped (``pickle.PicklingError`` for ``_pickle.PicklingError``);
- the class is re-exported under that name: the bootstrap found ``getattr(sys.modules[module], name) is cls``
  for the module with underscores stripped or a parent package (``einops.EinopsError`` for a class defined in
  ``einops._core``) and reported it in ``RaisedError.aliases``.

A signature may also say where the error was raised (``function``, ``file``, ``line_regex``), checked against
the innermost frame of the traceback or against any frame; all the given parts must hold for one frame.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from string import Template

ParamValue = str | int | float | bool


class Phase(enum.Enum):
    """Which part of a replay raised: loading replay.py, its ``setup(**parameters)``, or ``replay(...)``."""

    LOAD = "load"
    SETUP = "setup"
    REPLAY = "replay"


class FrameScope(enum.Enum):
    """Which frames of the traceback a signature's raise site is checked against."""

    INNERMOST = "innermost"
    ANY = "any"


@dataclass(frozen=True)
class Frame:
    """One traceback frame as the bootstrap reported it, outermost first."""

    file: str
    function: str
    """Qualified (``Attention.forward``) where the interpreter says (``co_qualname``, Python 3.11+)."""
    line: str = ""
    """The source line's text, stripped; empty when the source is not available."""
    lineno: int = 0


@dataclass(frozen=True)
class MissingModule:
    """What the bootstrap saw of a ``ModuleNotFoundError``: the module and who wanted it."""

    name: str
    """``exc.name``: the module that could not be found (dotted for a submodule)."""
    providers: tuple[str, ...] = ()
    """Installed distributions that provide ``name``'s top-level package (from their installed files)."""
    imported_by: str | None = None
    """The innermost frame inside site-packages, relative to it (``x_transformers/attend.py``)."""
    importer_distribution: str | None = None
    """The installed distribution that ships ``imported_by``."""


@dataclass(frozen=True)
class RaisedError:
    """An exception as the replay bootstrap reported it from inside the target environment."""

    type_name: str
    """Qualified name of the raised class, e.g. ``einops.EinopsError``."""
    message: str
    traceback_tail: str = ""
    type_chain: tuple[str, ...] = ()
    """Qualified names of the class and its bases, so a signature may name a base class."""
    aliases: tuple[str, ...] = ()
    """Public names the class or a base is re-exported as (``pickle.PicklingError``)."""
    frames: tuple[Frame, ...] = ()
    """The traceback's frames, outermost first (the innermost ones when it is long)."""
    phase: Phase = Phase.REPLAY
    missing_module: MissingModule | None = None

    @property
    def first_line(self) -> str:
        stripped = self.message.strip()
        return stripped.splitlines()[0] if stripped else "(no message)"

    @property
    def innermost(self) -> Frame | None:
        return self.frames[-1] if self.frames else None


@dataclass(frozen=True)
class RaiseSite:
    """Where a matching error must have been raised; every part given must hold for one frame."""

    function: str | None = None
    """Qualified function name; a dotted suffix matches too (``forward`` matches ``Attention.forward``)."""
    file: str | None = None
    """A path suffix on whole parts: ``x_transformers/attend.py`` matches ``.../x_transformers/attend.py``."""
    line_regex: str | None = None
    """Searched in the frame's source line."""
    frame: FrameScope = FrameScope.INNERMOST
    _compiled: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.line_regex is not None:
            object.__setattr__(self, "_compiled", re.compile(self.line_regex))

    @property
    def given(self) -> bool:
        return any(part is not None for part in (self.function, self.file, self.line_regex))

    def matches(self, error: RaisedError) -> bool:
        if not self.given:
            return True
        frames = error.frames if self.frame is FrameScope.ANY else error.frames[-1:]
        return any(self._frame_matches(frame) for frame in frames)

    def _frame_matches(self, frame: Frame) -> bool:
        if self.function is not None and not _dotted_suffix(frame.function, self.function):
            return False
        if self.file is not None and not _path_suffix(frame.file, self.file):
            return False
        return self._compiled is None or self._compiled.search(frame.line) is not None


@dataclass(frozen=True)
class Signature:
    exception_type: str
    """Qualified (``einops.EinopsError``) or bare (``EinopsError``) class name; see the module docstring."""
    message_contains: tuple[str, ...] = ()
    """Fragments that must all occur in the message; ``$name`` is replaced by the case parameter."""
    message_regex: str | None = None
    """An optional regular expression searched in the message; ``$name`` is replaced as in the fragments."""
    site: RaiseSite = RaiseSite()
    """Where the error must have been raised; by default anywhere."""
    _compiled: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.message_regex is not None:
            object.__setattr__(self, "_compiled", re.compile(self.message_regex))

    def render(self, parameters: Mapping[str, ParamValue]) -> Signature:
        """Substitute case parameters into the fragments, so one signature serves a parameter sweep."""
        values = {name: str(value) for name, value in parameters.items()}
        return Signature(
            exception_type=self.exception_type,
            message_contains=tuple(Template(text).safe_substitute(values) for text in self.message_contains),
            message_regex=Template(self.message_regex).safe_substitute(values) if self.message_regex else None,
            site=self.site
            if self.site.line_regex is None
            else replace(self.site, line_regex=Template(self.site.line_regex).safe_substitute(values)),
        )

    def matches(self, error: RaisedError) -> bool:
        if not exception_name_matches(self.exception_type, error):
            return False
        message = _normalize_whitespace(error.message)
        if not all(_normalize_whitespace(fragment) in message for fragment in self.message_contains):
            return False
        if self._compiled is not None and self._compiled.search(error.message) is None:
            return False
        return self.site.matches(error)


def exception_name_matches(configured: str, error: RaisedError) -> bool:
    """The rule in the module docstring, over the raised class, its bases and their reported aliases."""
    candidates = (error.type_name, *error.type_chain)
    if "." not in configured:
        return any(name.rpartition(".")[2] == configured for name in candidates)
    if configured in candidates or configured in error.aliases:
        return True
    module, _, bare = configured.rpartition(".")
    for name in candidates:
        raised_module, _, raised_bare = name.rpartition(".")
        if raised_bare == bare and public_module(raised_module) == module:
            return True
    return False


def public_module(module: str) -> str:
    """``_pickle`` -> ``pickle``, ``torch._C._nn`` -> ``torch.C.nn``: the name with private marks removed."""
    return ".".join(part.lstrip("_") or part for part in module.split("."))


def _dotted_suffix(qualified: str, wanted: str) -> bool:
    return qualified == wanted or qualified.endswith("." + wanted)


def _path_suffix(path: str, wanted: str) -> bool:
    path = path.replace("\\", "/")
    wanted = wanted.replace("\\", "/").strip("/")
    return path == wanted or path.endswith("/" + wanted)


def _normalize_whitespace(text: str) -> str:
    # Messages are re-wrapped between releases; compare them with runs of white space folded to one space.
    return " ".join(text.split())
