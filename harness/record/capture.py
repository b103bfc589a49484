"""Turn a failing script and the environment it failed in into a new case folder."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from harness import process
from harness.errors import ConfigError
from harness.model.names import check_case_id, package_name
from harness.model.signature import RaisedError
from harness.runners.isolated import BOOTSTRAP, raised_error_from, read_bootstrap_report

REPLAY_TEMPLATE = '''"""Recorded from {script_name}: replays it as it was when it failed."""

import pathlib
import runpy


def replay() -> None:
    runpy.run_path(str(pathlib.Path(__file__).with_name("{script_name}")), run_name="__main__")


if __name__ == "__main__":
    replay()
'''

VERSIONS_SCRIPT = (
    "import importlib.metadata as m, json, platform; "
    "print(json.dumps({'python': platform.python_version(), "
    "'installed': {d.metadata['Name']: d.version for d in m.distributions()}}))"
)


@dataclass(frozen=True)
class Recording:
    folder: Path
    error: RaisedError
    pins: dict[str, str]


def _stable_fragment(message: str) -> str:
    """The message's first line, the part least likely to be reworded between releases."""
    first = message.strip().splitlines()[0].strip() if message.strip() else ""
    return re.sub(r"\s+", " ", first)


WEAK_MESSAGE_CHARACTERS = 16
"""A message's first line shorter than this (``''``, ``'error'``, ``'None'``) cannot tell one failure from another."""


def weak_message(message: str) -> bool:
    return len(_stable_fragment(message)) < WEAK_MESSAGE_CHARACTERS


def raise_site_lines(error: RaisedError) -> list[str]:
    """``function`` and ``file`` of the innermost frame, when the message alone is too weak to identify it."""
    frame = error.innermost
    if frame is None or not weak_message(error.message):
        return []
    path = frame.file.replace("\\", "/")
    parts = path.split("/")
    # A path inside site-packages is named from there on, so it matches in every environment; else the file name.
    marker = max((i for i, part in enumerate(parts) if part in {"site-packages", "dist-packages"}), default=None)
    suffix = "/".join(parts[marker + 1 :]) if marker is not None else parts[-1]
    lines = [
        "# The message alone is weak, so the signature also names where it was raised (the innermost frame).",
        f"function = {json.dumps(frame.function)}",
        f"file = {json.dumps(suffix)}",
    ]
    if frame.line:
        lines.append(f"# line_regex = {json.dumps(re.escape(frame.line))}  # the raising line, if it is stable")
    return lines


def case_toml(
    case_id: str, *, title: str, packages: list[str], error: RaisedError, python: str, pins: dict[str, str]
) -> str:
    fragment = _stable_fragment(error.message)
    lines = [
        "# Recorded by `harness record`; edit the signature to keep only what identifies the failure.",
        f"id = {json.dumps(case_id)}",
        f"title = {json.dumps(title)}",
        f"packages = {json.dumps(packages)}",
        "",
        "[signature]",
        f"exception = {json.dumps(error.type_name)}",
        f"message_contains = {json.dumps([fragment] if fragment else [])}",
        *raise_site_lines(error),
        "",
        "[recorded_environment]",
        f"python = {json.dumps(python)}",
        *(f"{name} = {json.dumps(version)}" for name, version in pins.items()),
        "",
    ]
    return "\n".join(lines)


def record_case(
    script: Path, cases_dir: Path, *, case_id: str, packages: list[str], python: str, title: str | None = None
) -> Recording:
    # Checked before the id becomes a path: `../x`, `/abs` or `my bug` must not write outside cases/.
    check_case_id(case_id, what="--id")
    if not packages:
        raise ConfigError("--packages: name at least one package the script uses, e.g. --packages x-transformers")
    for name in packages:
        package_name(name, what="--packages")
    if not script.is_file():
        raise ConfigError(f"{script}: no such script")
    folder = cases_dir / case_id
    if folder.exists():
        raise ConfigError(f"{folder} already exists; choose another --id")
    with tempfile.TemporaryDirectory(prefix="harness-record-") as scratch:
        staging = Path(scratch) / case_id
        staging.mkdir()
        shutil.copy2(script, staging / script.name)
        (staging / "replay.py").write_text(REPLAY_TEMPLATE.format(script_name=script.name), encoding="utf-8")
        report_path = Path(scratch) / "report.json"
        process.run(
            [python, "-I", BOOTSTRAP, staging / "replay.py", "{}", report_path], cwd=script.parent, timeout=1800
        )
        report = read_bootstrap_report(report_path)
        error = raised_error_from(report) if report else None
        if error is None:
            raise ConfigError(f"{script} ran without raising an error under {python}; there is no failure to record")
        listed = process.run([python, "-c", VERSIONS_SCRIPT], timeout=120)
        if not listed.ok:
            raise ConfigError(f"cannot list the packages installed for {python}: {listed.output.splitlines()[-1:]}")
        environment = json.loads(listed.stdout)
        installed = {canonicalize_name(name): version for name, version in environment["installed"].items()}
        missing = [name for name in packages if canonicalize_name(name) not in installed]
        if missing:
            raise ConfigError(f"{', '.join(missing)} is not installed for {python}; name the packages the script uses")
        pins: dict[str, str] = {canonicalize_name(name): str(installed[canonicalize_name(name)]) for name in packages}
        text = case_toml(
            case_id,
            title=title or f"{error.type_name} in {script.name}",
            packages=packages,
            error=error,
            python=str(environment["python"]),
            pins=pins,
        )
        (staging / "case.toml").write_text(text, encoding="utf-8")
        cases_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), folder)
    return Recording(folder, error, pins)
