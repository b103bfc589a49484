"""The import contract: the pure core touches no process, network or disk, and only process.py starts programs.

Rules, checked on the AST of every module under harness/ (imports inside functions count too):

1. The pure core (``harness/model/**``, ``harness/bisection/search.py``, ``harness/culprit/ddmin.py``,
   ``harness/gate/policy.py``) and every harness module it imports, transitively (package ``__init__`` files
   included, since importing a module runs them), import:
   - none of the standard or third-party modules in ``IO_MODULES`` (processes, network, files, the OS), and
   - none of the harness modules in ``IO_HARNESS`` (the edges that read files, build environments, run
     cases or ask an index). ``harness.index`` is forbidden whole: its ``__init__`` pulls in the network
     clients, and the core needs none of its types (versions are ``packaging`` values).
   Imports under ``if TYPE_CHECKING:`` count here as well: the core should not even name an edge's types.
   ``pathlib`` is allowed, since a ``Path`` is a value (joining and naming never touch the disk), but calling
   one of ``PATH_IO_METHODS`` on anything, or the builtin ``open``, is a violation (matched by name, so a
   pure class should not name a method ``read_text`` or ``exists``).
2. Only ``harness/process.py`` imports ``subprocess`` (or ``multiprocessing``, ``pty``) or calls ``os.system``,
   ``os.popen``, ``os.exec*``, ``os.spawn*``, ``os.posix_spawn*`` or ``os.fork*``. An import under
   ``if TYPE_CHECKING:`` only names a type and starts nothing, so it is allowed. ``runners/_forkworker.py``
   is exempt from the os.fork rule: it runs inside the target environment with the standard library only
   (it cannot import harness.process), and forking a child per probe is its job. ``runners/_bootstrap.py``
   needs no exemption.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PURE_CORE = ("harness.model", "harness.bisection.search", "harness.culprit.ddmin", "harness.gate.policy")
IO_MODULES = frozenset(
    {
        "asyncio",
        "ftplib",
        "glob",
        "http",
        "io",
        "multiprocessing",
        "os",
        "pty",
        "pypi_simple",
        "requests",
        "select",
        "shutil",
        "signal",
        "socket",
        "sqlite3",
        "ssl",
        "subprocess",
        "tarfile",
        "tempfile",
        "threading",
        "urllib",
        "zipfile",
    }
)
IO_HARNESS = (
    "harness._cli",
    "harness.config",
    "harness.environments",
    "harness.files",
    "harness.index",
    "harness.noxsupport",
    "harness.pinsources",
    "harness.probing",
    "harness.process",
    "harness.record",
    "harness.reports",
    "harness.runners",
    "harness.sources",
    "harness.workspace",
)
PATH_IO_METHODS = frozenset(
    {
        "chmod",
        "exists",
        "expanduser",
        "glob",
        "is_dir",
        "is_file",
        "iterdir",
        "mkdir",
        "open",
        "read_bytes",
        "read_text",
        "rename",
        "resolve",
        "rglob",
        "rmdir",
        "stat",
        "touch",
        "unlink",
        "write_bytes",
        "write_text",
    }
)
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty"})
PROCESS_CALL_PREFIXES = ("system", "popen", "exec", "spawn", "posix_spawn", "fork")
STARTS_PROGRAMS = "harness.process"
FORKS_BY_DESIGN = "harness.runners._forkworker"


@dataclass(frozen=True)
class Module:
    name: str
    source: str
    is_package: bool = False


@dataclass(frozen=True)
class Import:
    target: str
    line: int
    type_checking: bool


def modules_on_disk(root: Path = REPO) -> dict[str, Module]:
    found = {}
    for path in sorted((root / "harness").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        found[name] = Module(name, path.read_text(encoding="utf-8"), is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@functools.cache
def _tree(source: str) -> ast.Module:
    return ast.parse(source)


def _walk(node: ast.AST, type_checking: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            # Only the body is guarded; an `else:` runs for real.
            for item in child.body:
                yield item, True
                yield from _walk(item, True)
            for item in child.orelse:
                yield item, type_checking
                yield from _walk(item, type_checking)
            continue
        yield child, type_checking
        yield from _walk(child, type_checking)


def imports_of(module: Module, known: Mapping[str, Module]) -> list[Import]:
    """Every module ``module`` imports, absolute, with ``from package import submodule`` resolved."""
    found = []
    for base, names, line, type_checking in _raw_imports(module):
        found.append(Import(base, line, type_checking))
        found += [Import(f"{base}.{name}", line, type_checking) for name in names if f"{base}.{name}" in known]
    return found


@functools.cache
def _raw_imports(module: Module) -> tuple[tuple[str, tuple[str, ...], int, bool], ...]:
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    found: list[tuple[str, tuple[str, ...], int, bool]] = []
    for node, type_checking in _walk(_tree(module.source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, (), node.lineno, type_checking) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, tuple(alias.name for alias in node.names), node.lineno, type_checking))
    return tuple(found)


@functools.cache
def _calls(source: str) -> tuple[ast.Call, ...]:
    return tuple(node for node in ast.walk(_tree(source)) if isinstance(node, ast.Call))


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(roots: list[str], known: Mapping[str, Module]) -> list[str]:
    """The harness modules that importing ``roots`` runs, parents included, in the order first reached."""
    seen: dict[str, None] = {}
    queue = list(roots)
    while queue:
        name = queue.pop(0)
        if name in seen or name not in known:
            continue
        seen[name] = None
        queue += _parents(name)
        queue += [i.target for i in imports_of(known[name], known) if i.target.startswith("harness")]
    return list(seen)


def purity_violations(known: Mapping[str, Module], core: tuple[str, ...] = PURE_CORE) -> list[str]:
    roots = [name for name in known if any(_within(name, prefix) for prefix in core)]
    problems = []
    for name in closure(roots, known):
        module = known[name]
        for item in imports_of(module, known):
            top = item.target.split(".")[0]
            if top in IO_MODULES or any(_within(item.target, edge) for edge in IO_HARNESS):
                problems.append(f"{name}:{item.line} imports {item.target}")
        for node in _calls(module.source):
            if isinstance(node.func, ast.Attribute) and node.func.attr in PATH_IO_METHODS:
                problems.append(f"{name}:{node.lineno} calls .{node.func.attr}()")
            if isinstance(node.func, ast.Name) and node.func.id == "open":
                problems.append(f"{name}:{node.lineno} calls open()")
    return problems


def process_violations(known: Mapping[str, Module]) -> list[str]:
    problems = []
    for name, module in known.items():
        if name == STARTS_PROGRAMS:
            continue
        for item in imports_of(module, known):
            if item.target.split(".")[0] in PROCESS_MODULES and not item.type_checking:
                problems.append(f"{name}:{item.line} imports {item.target}")
        if name == FORKS_BY_DESIGN:
            continue
        for node in _calls(module.source):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
                and func.attr.startswith(PROCESS_CALL_PREFIXES)
            ):
                problems.append(f"{name}:{node.lineno} calls os.{func.attr}()")
    return problems


HARNESS = modules_on_disk()


def test_the_walk_sees_the_whole_package() -> None:
    # A walk that found nothing would pass every rule.
    assert {"harness.process", "harness.model.case", "harness.gate.policy", "harness.bisection.search"} <= set(HARNESS)
    assert {"harness.model.fields", "harness.errors", "harness"} <= set(closure(["harness.model.case"], HARNESS))


def test_the_pure_core_touches_no_process_network_or_disk() -> None:
    assert purity_violations(HARNESS) == []


def test_only_process_py_starts_programs() -> None:
    assert process_violations(HARNESS) == []


def with_module(name: str, source: str, *, is_package: bool = False) -> dict[str, Module]:
    return {**HARNESS, name: Module(name, source, is_package)}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import subprocess\n", "imports subprocess"),
        ("from os import path\n", "imports os"),
        ("import urllib.request\n", "imports urllib.request"),
        ("from harness.files import write_json\n", "imports harness.files"),
        ("from harness import workspace\n", "imports harness.workspace"),
        ("from ..index.interface import Release\n", "imports harness.index.interface"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from harness.probing import prober\n", "prober"),
        ("def load(path):\n    import json, shutil\n    return path\n", "imports shutil"),
        ("def load(path):\n    return path.read_text()\n", "calls .read_text()"),
        ("def load(name):\n    return open(name).read()\n", "calls open()"),
    ],
)
def test_a_violating_core_module_is_caught(source: str, found: str) -> None:
    problems = purity_violations(with_module("harness.model.synthetic", source))
    assert any(p.startswith("harness.model.synthetic:") and found in p for p in problems), problems


def test_a_violation_is_caught_through_an_innocent_looking_import() -> None:
    known = with_module("harness.model.synthetic", "from harness.gate import helper\n")
    known["harness.gate.helper"] = Module("harness.gate.helper", "import tempfile\n")
    assert purity_violations(known) == ["harness.gate.helper:1 imports tempfile"]


def test_a_path_as_a_type_is_pure() -> None:
    source = "from pathlib import Path\n\ndef under(root: Path) -> Path:\n    return root / 'cases'\n"
    assert purity_violations(with_module("harness.model.synthetic", source)) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import subprocess\n", "imports subprocess"),
        ("from multiprocessing import Pool\n", "imports multiprocessing"),
        ("import os\nos.system('ls')\n", "calls os.system()"),
        ("import os\nos.execvp('ls', ['ls'])\n", "calls os.execvp()"),
    ],
)
def test_a_module_that_starts_programs_is_caught(source: str, found: str) -> None:
    problems = process_violations(with_module("harness.reports.synthetic", source))
    assert any(p.startswith("harness.reports.synthetic:") and found in p for p in problems), problems


def test_a_type_only_subprocess_import_starts_nothing() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import subprocess\nelse:\n    pass\n"
    assert process_violations(with_module("harness.reports.synthetic", source)) == []
    leaky = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    import subprocess\n"
    assert process_violations(with_module("harness.reports.synthetic", leaky)) != []
