"""The file edge for case.toml, versions.toml and gate.toml: read from disk, then validated by the pure models."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.gate.acknowledgements import Acknowledgement, parse_acknowledgements
from harness.model.case import CASE_FILE, REPLAY_FILE, Case, parse_case
from harness.model.matrix import MatrixSpec, parse_matrix


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every way it can fail into one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_case(directory: Path) -> Case:
    """Read a case folder (from ``cases/`` or anywhere on disk) and validate it."""
    directory = directory.resolve()
    if not directory.is_dir():
        raise ConfigError(f"{directory}: no such case folder")
    case_file = directory / CASE_FILE
    replay_file = directory / REPLAY_FILE
    data = read_toml(case_file)
    if not replay_file.is_file():
        raise ConfigError(f"{replay_file}: missing; a case needs a replay.py that defines replay(**parameters)")
    return parse_case(data, directory=directory, content_hash=case_content_hash(directory))


def case_content_hash(directory: Path) -> str:
    """A digest of every file in a case folder (a helper module replay.py imports changes a result too).

    Files are taken in sorted relative-path order, each as its path and its length-prefixed bytes, so that
    renaming or moving bytes between files changes the digest; bytecode caches are left out.
    """
    digest = hashlib.sha256()
    files = (p for p in directory.rglob("*") if p.is_file() and not _is_bytecode(p.relative_to(directory)))
    for path in sorted(files, key=lambda p: p.relative_to(directory).as_posix()):
        data = path.read_bytes()
        name = path.relative_to(directory).as_posix().encode()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)))
        digest.update(data)
    return digest.hexdigest()[:16]


def _is_bytecode(relative: Path) -> bool:
    return "__pycache__" in relative.parts or relative.suffix == ".pyc"


def discover_cases(cases_root: Path, selectors: tuple[str, ...] = ()) -> list[Case]:
    """The cases to run: every folder under ``cases/``, or those named by id or given by path."""
    if not selectors:
        if not cases_root.is_dir():
            raise ConfigError(f"{cases_root}: no cases folder; add a case as described in the README")
        folders = sorted(p for p in cases_root.iterdir() if (p / CASE_FILE).is_file())
        return _unique_ids([load_case(folder) for folder in folders])
    cases = []
    for selector in selectors:
        as_path = Path(selector)
        if (as_path / CASE_FILE).is_file():
            cases.append(load_case(as_path))
        elif (cases_root / selector / CASE_FILE).is_file():
            cases.append(load_case(cases_root / selector))
        else:
            known = (
                sorted(p.name for p in cases_root.iterdir() if (p / CASE_FILE).is_file()) if cases_root.is_dir() else []
            )
            raise ConfigError(
                f"case {selector!r} not found: not a folder with a case.toml, nor one of {', '.join(known) or 'none'}"
            )
    return _unique_ids(cases)


def _unique_ids(cases: list[Case]) -> list[Case]:
    """The cases, each once; two folders declaring one id would write the same records and summary."""
    seen: dict[str, Case] = {}
    unique = []
    for case in cases:
        first = seen.setdefault(case.id, case)
        if first is case:
            unique.append(case)
        elif first.directory != case.directory:
            raise ConfigError(
                f"case id {case.id!r} is declared by two folders, {first.directory} and {case.directory}; "
                "give each case its own id"
            )
    return unique


def load_matrix(path: Path) -> MatrixSpec:
    return parse_matrix(read_toml(path), str(path))


def load_acknowledgements(path: Path, *, missing_ok: bool = False) -> tuple[Acknowledgement, ...]:
    """Read ``gate.toml``; with ``missing_ok`` an absent file (the default location) means no acknowledgements."""
    if missing_ok and not path.exists():
        return ()
    return parse_acknowledgements(read_toml(path), str(path))
