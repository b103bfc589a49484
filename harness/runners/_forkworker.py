"""Runs inside a base environment: imports the heavy, unchanging modules once, then forks a child per probe.

Standard library only. Protocol: JSON lines on stdin/stdout. The first line out reports what was imported
(module -> file) so the parent can prove, per probe, that those files belong to distributions the probe's
own environment resolves identically. Each request names the probe environment's site-packages; the child
swaps it in for the worker's own before importing anything else, so only pre-imported modules are shared.

The harness decides when to stop: the worker ignores Ctrl-C (the harness gets it too), and on SIGTERM, on
the end of its input, or when the harness is gone, it ends the running child's process group and exits.
"""

import contextlib
import gc
import importlib
import json
import os
import select
import signal
import site
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _bootstrap  # type: ignore[import-not-found]  # noqa: E402  (a sibling file, found through HERE)

sys.path.remove(HERE)
del sys.modules["_bootstrap"]  # keep it out of the module report; the function object stays alive
WORKER_SITE = [p for p in sys.path if p.endswith("site-packages")]


def _preimport(names: list[str]) -> dict[str, object]:
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:
            failed.append(name)
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    return {"ready": True, "python": sys.version, "modules": files, "failed": failed}


CURRENT_CHILD = [0]
"""The pid (and process group) of the probe running now; 0 when idle."""
PARENT = int(sys.argv[2]) if len(sys.argv) > 2 else os.getppid()
"""The harness, passed in: it may be gone before this line runs."""


def _end_child_and_exit(*_: object) -> None:
    if CURRENT_CHILD[0]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(CURRENT_CHILD[0], signal.SIGKILL)
    os._exit(0)


def _child(request: dict[str, object], worker: int) -> None:
    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _bootstrap.start_watchdog(float(request["timeout"]), worker)  # type: ignore[arg-type]
    with open(str(request["stderr"]), "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    for path in WORKER_SITE:
        while path in sys.path:
            sys.path.remove(path)
    before = list(sys.path)
    for directory in request["site"]:  # type: ignore[attr-defined]
        site.addsitedir(str(directory))  # processes .pth files, as the interpreter of that venv would
    added = [p for p in sys.path if p not in before]
    sys.path[:] = added + before
    importlib.invalidate_caches()
    _run(
        str(request["replay"]),
        json.dumps(request["parameters"]),
        str(request["result"]),
        int(request.get("run_index", 0)),  # type: ignore[call-overload]
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


_run = _bootstrap.run_case


def _wait(pid: int, timeout: float) -> tuple[int, bool]:
    """The child's exit code and whether it was killed for running past ``timeout``.

    A pidfd becomes readable the instant the child exits, so a probe's answer is not held back by a polling
    interval (up to 50 ms a probe otherwise); without one (an old kernel), the child is polled.
    """
    deadline = time.monotonic() + timeout
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    delay = 0.002
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), False
            if os.getppid() != PARENT:
                _end_child_and_exit()
            left = deadline - time.monotonic()
            if left < 0:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                return os.waitstatus_to_exitcode(status), True
            if pidfd >= 0:
                select.select([pidfd], [], [], min(left, 1.0))  # woken at exit; each second, the harness is checked
            else:
                time.sleep(min(delay, max(left, 0.0)))
                delay = min(delay * 2, 0.05)
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_child_and_exit)
    if os.getppid() != PARENT:
        _end_child_and_exit()
    print(json.dumps(_preimport(json.loads(sys.argv[1]))), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "import" in request:  # more modules to hold, learnt after the start: imported here, not per child
            print(json.dumps(_preimport(request["import"])), flush=True)
            continue
        started = time.monotonic()
        worker = os.getpid()
        # What the worker holds moves out of the collector's reach: a child's collections would otherwise walk
        # every object of torch and touch each one's page, copying most of the worker's memory (torch 2.14's
        # CUDA build: ~0.25 s a probe). Those objects live as long as the child does either way.
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            try:
                _child(request, worker)
            finally:
                os._exit(70)
        CURRENT_CHILD[0] = pid
        returncode, timed_out = _wait(pid, float(request["timeout"]))
        CURRENT_CHILD[0] = 0
        reply = {"returncode": returncode, "timed_out": timed_out, "seconds": time.monotonic() - started}
        print(json.dumps(reply), flush=True)
    # The end of input: nothing is left to flush, and tearing down an interpreter that holds torch takes a
    # second or more, which every `nox -s repro` would wait for at its end.
    os._exit(0)


if __name__ == "__main__":
    main()
