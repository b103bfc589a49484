"""Runs inside the target environment: calls a case's ``replay(**parameters)`` and reports what happened.

Standard library only, since the environment holds nothing but the packages under test. The report is a
JSON file written atomically; a process that dies before writing it is, by that absence, a crash.

A watchdog thread ends the replay's whole process group when the process that started it goes away (the
harness killed with SIGKILL cannot do it itself) or, as a backstop, well past its time limit.
"""

import contextlib
import importlib.util
import json
import os
import platform
import signal
import sys
import threading
import time
import traceback

TRACEBACK_LINES = 40
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


def _describe(exc: BaseException) -> dict[str, object]:
    try:
        lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()
    except BaseException:
        lines = [f"{_qualified(type(exc))}: {_message_of(exc)}"]
    tail = [_bounded(line, LINE_LIMIT) for line in lines[-TRACEBACK_LINES:]]
    return {
        "type": _qualified(type(exc)),
        "type_chain": [_qualified(cls) for cls in type(exc).__mro__],
        "message": _bounded(_message_of(exc), MESSAGE_LIMIT),
        "traceback_tail": "\n".join(tail),
    }


def _load_replay(path: str) -> object:
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location("replay", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["replay"] = module
    spec.loader.exec_module(module)
    return module.replay


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
    try:
        replay = _load_replay(replay_path)
        replay(**json.loads(parameters_json))  # type: ignore[operator]
    except SystemExit as exc:
        if exc.code not in (None, 0):
            report["error"] = _describe(exc)
    except BaseException as exc:
        report["error"] = _describe(exc)
    # Which modules the case imported: the fork-server mode pre-imports the unchanging ones next time.
    report["modules"] = sorted(sys.modules)
    temporary = result_path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    os.replace(temporary, result_path)


if __name__ == "__main__":
    main()
