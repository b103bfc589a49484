"""Runs inside the target environment: calls a case's ``replay`` and reports what happened.

How a replay is called: when replay.py defines ``setup(**parameters)``, its result is handed to the replay
as the first positional argument, ``replay(setup(**parameters), **parameters)``; without one the call is
plain ``replay(**parameters)``. Set-up builds what the check needs (a model, its inputs); anything it raises
is reported with ``"phase": "setup"`` and becomes SETUP_FAILED (the release cannot be tested), never the
recorded failure. ``"phase"`` is ``"load"`` for an error while importing replay.py itself.

The error report also carries the traceback's frames (file, qualified function name, source line; the
innermost ``FRAME_LIMIT``), the public names the exception class is re-exported as, and for a
``ModuleNotFoundError`` which installed distributions provide that module and which site-packages file
wanted it, so that the harness can tell an undeclared dependency from a missing name.

Standard library only, since the environment holds nothing but the packages under test. The report is a
JSON file written atomically; a process that dies before writing it is, by that absence, a crash.

A watchdog thread ends the replay's whole process group when the process that started it goes away (the
harness killed with SIGKILL cannot do it itself) or, as a backstop, well past its time limit.
"""

import contextlib
import importlib.util
import json
import linecache
import os
import platform
import signal
import sys
import threading
import time
import traceback

TRACEBACK_LINES = 40
FRAME_LIMIT = 30
FRAME_LINE_LIMIT = 300
MESSAGE_LIMIT = 20_000
LINE_LIMIT = 2_000
"""Records and reports stay small whatever a replay raises: a 20 MB message keeps its first 20,000 characters."""
WATCH_INTERVAL_SECONDS = 0.25
DEADLINE_GRACE_SECONDS = 10.0
"""The harness ends a replay at its time limit; the watchdog only steps in if the harness could not."""


def _end_own_group() -> None:
    if os.getpgrp() == os.getpid():  # only a group of our own: never the caller's
        with contextlib.suppress(OSError):
            os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(137)


def _watch(parent: int, deadline: "float | None") -> None:
    while True:
        time.sleep(WATCH_INTERVAL_SECONDS)
        if os.getppid() != parent or (deadline is not None and time.monotonic() > deadline):
            _end_own_group()


def start_watchdog(timeout: "float | None", parent: int) -> None:
    """``parent`` is passed in, not read here: the parent may already be gone by the time this runs."""
    deadline = None if timeout is None else time.monotonic() + timeout + DEADLINE_GRACE_SECONDS
    if os.getppid() != parent:
        _end_own_group()
    threading.Thread(target=_watch, args=(parent, deadline), daemon=True, name="harness-watchdog").start()


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _bounded(text: str, limit: int) -> str:
    """Encodable (lone surrogates replaced) and at most ``limit`` characters, the cut marked."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) <= limit:
        return text
    return text[:limit] + f"... [cut: {len(text):,} characters in all]"


def _message_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException as inner:  # an exception whose __str__ raises is still an exception of its type
        return f"<unprintable {type(exc).__name__}: str() raised {type(inner).__name__}>"


def _frames(exc: BaseException) -> list[dict[str, object]]:
    frames = []
    own = os.path.abspath(__file__)
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if os.path.abspath(code.co_filename) == own:  # the bootstrap's own frames say nothing about the case
            tb = tb.tb_next
            continue
        line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
        frames.append(
            {
                "file": code.co_filename,
                "function": getattr(code, "co_qualname", code.co_name),  # co_qualname: Python 3.11+
                "line": _bounded(line, FRAME_LINE_LIMIT),
                "lineno": tb.tb_lineno,
            }
        )
        tb = tb.tb_next
    return frames[-FRAME_LIMIT:]


def _public_candidates(module: str) -> list[str]:
    """The module with private marks stripped and its parent packages: where a class may be re-exported."""
    parts = module.split(".")
    stripped = ".".join(part.lstrip("_") or part for part in parts)
    parents = [".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]
    return [name for name in [stripped, *parents] if name != module]


def _aliases(cls: type) -> list[str]:
    found = []
    for klass in cls.__mro__:
        for public in _public_candidates(klass.__module__):
            holder = sys.modules.get(public)
            if holder is not None and getattr(holder, klass.__name__, None) is klass:
                found.append(f"{public}.{klass.__qualname__}")
    return found


def _site_relative(path: str) -> "str | None":
    parts = path.replace(os.sep, "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(marker) :])
    return None


def _missing_module(exc: ModuleNotFoundError, frames: list[dict[str, object]]) -> dict[str, object]:
    name = exc.name or ""
    providers: list[str] = []
    importer_distribution = None
    importer = next(
        (rel for frame in reversed(frames) if (rel := _site_relative(str(frame["file"]))) is not None), None
    )
    try:
        from importlib import metadata  # noqa: PLC0415 - only a ModuleNotFoundError needs it

        owners = metadata.packages_distributions()  # top-level import name -> distributions, from their files
        providers = sorted(owners.get(name.partition(".")[0], []))
        if importer is not None:
            importer_distribution = next(iter(owners.get(importer.split("/")[0].removesuffix(".py"), [])), None)
    except BaseException:  # a broken distribution's metadata must not hide the error being reported
        pass
    return {
        "name": name,
        "providers": providers,
        "imported_by": importer,
        "importer_distribution": importer_distribution,
    }


def _describe(exc: BaseException, phase: str = "replay") -> dict[str, object]:
    try:
        lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()
    except BaseException:
        lines = [f"{_qualified(type(exc))}: {_message_of(exc)}"]
    tail = [_bounded(line, LINE_LIMIT) for line in lines[-TRACEBACK_LINES:]]
    report: dict[str, object] = {
        "type": _qualified(type(exc)),
        "type_chain": [_qualified(cls) for cls in type(exc).__mro__],
        "message": _bounded(_message_of(exc), MESSAGE_LIMIT),
        "traceback_tail": "\n".join(tail),
        "phase": phase,
    }
    try:  # the extras must never cost the report itself
        frames = _frames(exc)
        report["frames"] = frames
        report["aliases"] = _aliases(type(exc))
        if isinstance(exc, ModuleNotFoundError):
            report["missing_module"] = _missing_module(exc, frames)
    except BaseException:
        pass
    return report


def _load_replay(path: str) -> object:
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("replay", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["replay"] = module
    spec.loader.exec_module(module)
    return module


def _call(module: object, parameters: dict[str, object], phase: list[str]) -> None:
    """``replay(setup(**parameters), **parameters)`` when set-up exists, else ``replay(**parameters)``."""
    setup = getattr(module, "setup", None)
    replay = getattr(module, "replay")  # noqa: B009 - an AttributeError here is the case's error to report
    if setup is None:
        phase[0] = "replay"
        replay(**parameters)
        return
    phase[0] = "setup"
    state = setup(**parameters)
    phase[0] = "replay"
    replay(state, **parameters)


def main() -> None:
    replay_path, parameters_json, result_path = sys.argv[1:4]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else None
    start_watchdog(timeout, int(sys.argv[5]) if len(sys.argv) > 5 else os.getppid())
    run_case(replay_path, parameters_json, result_path, int(sys.argv[6]) if len(sys.argv) > 6 else 0)


def run_case(replay_path: str, parameters_json: str, result_path: str, run_index: int = 0) -> None:
    # A repeated probe's runs are numbered, so a replay (or a test's fake package) can seed from the number.
    os.environ["HARNESS_RUN_INDEX"] = str(run_index)
    report: dict[str, object] = {
        "python": platform.python_version(),
        "python_full": sys.version.replace("\n", " "),
        "platform": platform.platform(),
        "error": None,
    }
    phase = ["load"]
    try:
        _call(_load_replay(replay_path), json.loads(parameters_json), phase)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            report["error"] = _describe(exc, phase[0])
    except BaseException as exc:
        report["error"] = _describe(exc, phase[0])
    # Which modules the case imported: the fork-server mode pre-imports the unchanging ones next time.
    report["modules"] = sorted(sys.modules)
    temporary = result_path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    os.replace(temporary, result_path)


if __name__ == "__main__":
    main()
