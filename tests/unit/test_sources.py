"""Carrying pip's index and find-links settings over to uv."""

from __future__ import annotations

from pathlib import Path

from harness.sources import PipSettings, combine, parse_pip_settings, pip_config_paths

GLOBAL = "[global]\nindex-url = https://mirror.example/simple\nconstraint = /etc/constraints.txt\n"
USER = "[global]\nfind-links = /opt/wheels\nextra-index-url = file:///opt/a/simple\n  file:///opt/b/simple\n"
INSTALL = "[install]\nindex-url = https://install-only.example/simple\n"


def test_later_files_override_earlier_ones_and_install_section_applies() -> None:
    settings = parse_pip_settings([GLOBAL, USER, INSTALL], {})
    assert settings.index_url == "https://install-only.example/simple"
    assert settings.extra_index_urls == ("file:///opt/a/simple", "file:///opt/b/simple")
    assert settings.find_links == ("/opt/wheels",)


def test_environment_variables_win_over_files() -> None:
    settings = parse_pip_settings([USER], {"PIP_FIND_LINKS": "/a /b", "PIP_NO_INDEX": "1"})
    assert settings.find_links == ("/a", "/b")
    assert settings.no_index


def test_a_broken_config_file_is_ignored() -> None:
    assert parse_pip_settings(["not [ini"], {}) == PipSettings()


def test_config_file_order_follows_pip() -> None:
    home = Path("/home/u")
    paths = pip_config_paths({"XDG_CONFIG_DIRS": "/etc/xdg", "VIRTUAL_ENV": "/venv"}, home)
    assert paths == [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        home / ".pip/pip.conf",
        home / ".config/pip/pip.conf",
        Path("/venv/pip.conf"),
    ]
    assert pip_config_paths({"PIP_CONFIG_FILE": "/dev/null"}, home) == []


def test_extra_indexes_ask_uv_for_pips_best_match_unless_the_user_chose() -> None:
    pip = PipSettings(extra_index_urls=("file:///opt/a/simple",), find_links=("/opt/wheels",))
    assert combine(pip).index_strategy == "unsafe-best-match"
    assert combine(pip, uv_index_strategy_set=True).index_strategy is None
    assert combine(PipSettings()).index_strategy is None


def test_uv_arguments_carry_every_source() -> None:
    sources = combine(
        PipSettings(index_url="https://m/simple", find_links=("/w",)), extra_index_urls=["file:///x/simple"]
    )
    assert sources.uv_arguments() == [
        "--index-url", "https://m/simple",
        "--extra-index-url", "file:///x/simple",
        "--find-links", "/w",
        "--index-strategy", "unsafe-best-match",
    ]  # fmt: skip
