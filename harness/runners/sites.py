"""What an environment's site-packages holds, as the fork runner's proof reads it: which distribution installed
each file (from the RECORDs), the top-level modules of the preloaded distributions, the base interpreter, and
the locked identity of every distribution."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from harness.environments.interface import Environment


def site_packages(environment: Environment) -> Path:
    found = sorted(environment.location.glob("lib/python*/site-packages"))
    if not found:
        raise FileNotFoundError(f"no site-packages under {environment.location}")
    return found[0]


def file_owners(site: Path) -> dict[Path, str]:
    """Map every installed file to the distribution whose RECORD lists it.

    Paths are joined to the resolved site-packages and normalised, not resolved one by one: torch alone lists
    some 16,000 files, and a resolve per file made this most of a worker's start. A file reached through a
    symbolic link then has another path than its module's resolved one, so the proof refuses it: the safe side.
    """
    base = str(site.resolve())
    owners: dict[Path, str] = {}
    for record in site.glob("*.dist-info/RECORD"):
        name = canonicalize_name(record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        for line in record.read_text(encoding="utf-8", errors="replace").splitlines():
            relative = line.split(",", 1)[0]
            if relative:
                owners[Path(os.path.normpath(os.path.join(base, relative)))] = name
    return owners


def top_level_names(site: Path, distributions: Iterable[str]) -> set[str]:
    """The top-level module names (packages and single-file modules) that these distributions' RECORDs install.

    Only their own RECORDs are read, as plain strings: a worker's start waits for this, and ``file_owners``
    over all of site-packages takes a good part of a second with torch, so it is read while the worker imports.
    """
    wanted = {canonicalize_name(d) for d in distributions}
    names: set[str] = set()
    for record in site.glob("*.dist-info/RECORD"):
        if canonicalize_name(record.parent.name.removesuffix(".dist-info").rsplit("-", 1)[0]) not in wanted:
            continue
        for line in record.read_text(encoding="utf-8", errors="replace").splitlines():
            relative = line.split(",", 1)[0]
            first = relative.split("/", 1)[0]
            if relative.endswith((".py", ".so")) and first not in ("", ".", ".."):
                names.add(first.split(".")[0])
    return names


def interpreter_of(environment: Environment) -> str:
    """The base interpreter and its version, as the environment's pyvenv.cfg names them."""
    try:
        lines = (environment.location / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return str(site_packages(environment).parent.name)  # lib/python3.X: the minor version at least
    wanted = ("home", "version_info", "version")
    return ";".join(sorted(line.replace(" ", "") for line in lines if line.split("=")[0].strip() in wanted))


def locked_identities(environment: Environment) -> dict[str, tuple[str, str, str]]:
    return {canonicalize_name(name): (name, version, url) for name, version, url in environment.locked}
