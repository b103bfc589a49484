"""Where packages come from: pip's configured indexes and find-links, versions.toml, carried over to uv.

uv reads its own settings (``uv.toml``, ``UV_*``) but ignores pip's; users whose machine points pip at a
mirror or a folder of wheels expect the harness to see the same packages pip sees. The translation is pure;
``read_pip_settings`` at the bottom is the only part that touches files and the environment.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName


@dataclass(frozen=True)
class PipSettings:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False


@dataclass(frozen=True)
class PackageSources:
    """Everything uv must be told about package locations, beyond its own configuration."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    index_strategy: str | None = None
    package_indexes: tuple[tuple[NormalizedName, str], ...] = ()
    """Packages that must come from one named index only, as users pin torch to PyTorch's CPU index."""

    def uv_arguments(self, find_links: Sequence[str] | None = None) -> list[str]:
        """uv's options for these sources; ``find_links`` stands in for the configured find-links locations
        (the provider passes hashed pages of local folders)."""
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for location in self.find_links if find_links is None else find_links:
            args += ["--find-links", location]
        if self.no_index:
            args.append("--no-index")
        if self.index_strategy:
            args += ["--index-strategy", self.index_strategy]
        return args

    def describe(self) -> dict[str, object]:
        """A JSON-ready account of the sources, recorded with each probe."""
        return {
            "index_url": self.index_url,
            "extra_index_urls": list(self.extra_index_urls),
            "find_links": list(self.find_links),
            "no_index": self.no_index,
            "index_strategy": self.index_strategy,
            "package_indexes": dict(self.package_indexes),
        }


def combine(
    pip: PipSettings,
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
    index_strategy: str | None = None,
    package_indexes: Mapping[NormalizedName, str] | None = None,
    uv_index_strategy_set: bool = False,
) -> PackageSources:
    """Merge pip's settings with versions.toml's: versions.toml adds to pip's and wins on the main index.

    pip treats all indexes as equally trusted and takes the best version from any of them; uv by default
    stops at the first index that has the package. When pip's extra indexes are carried over, uv is asked
    for pip's behaviour, unless the user chose a strategy for uv themselves.
    """
    extras = _unique((*pip.extra_index_urls, *extra_index_urls))
    strategy = index_strategy
    if strategy is None and extras and not uv_index_strategy_set:
        strategy = "unsafe-best-match"
    return PackageSources(
        index_url=index_url or pip.index_url,
        extra_index_urls=extras,
        find_links=_unique((*pip.find_links, *find_links)),
        no_index=pip.no_index,
        index_strategy=strategy,
        package_indexes=tuple(sorted((package_indexes or {}).items())),
    )


def parse_pip_settings(config_texts: Sequence[str], environ: Mapping[str, str]) -> PipSettings:
    """pip's effective settings from its config files (lowest precedence first) and ``PIP_*`` variables."""
    values: dict[str, str] = {}
    for text in config_texts:
        parser = configparser.RawConfigParser()
        try:
            parser.read_string(text)
        except configparser.Error:
            continue  # pip itself would refuse such a file; it carries no settings we could honour
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    values[key.replace("_", "-")] = value
    for key in ("index-url", "extra-index-url", "find-links", "no-index"):
        env_value = environ.get("PIP_" + key.upper().replace("-", "_"))
        if env_value is not None:
            values[key] = env_value
    return PipSettings(
        index_url=values.get("index-url", "").strip() or None,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=values.get("no-index", "").strip().lower() in {"1", "true", "yes", "on"},
    )


def pip_config_paths(environ: Mapping[str, str], home: Path) -> list[Path]:
    """pip's config files in the order pip applies them: global, user, site, then PIP_CONFIG_FILE."""
    config_file = environ.get("PIP_CONFIG_FILE")
    if config_file == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    paths = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d] + [Path("/etc/pip.conf")]
    env_file = Path(config_file) if config_file else None
    if env_file is None or not env_file.exists():
        config_home = Path(environ.get("XDG_CONFIG_HOME", home / ".config"))
        paths += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    if environ.get("VIRTUAL_ENV"):
        paths.append(Path(environ["VIRTUAL_ENV"]) / "pip.conf")
    if env_file is not None:
        paths.append(env_file)
    return paths


def read_pip_settings(environ: Mapping[str, str] | None = None) -> PipSettings:
    environ = os.environ if environ is None else environ
    texts = []
    for path in pip_config_paths(environ, Path.home()):
        try:
            texts.append(path.read_text(encoding="utf-8"))
        except OSError:
            continue
    return parse_pip_settings(texts, environ)


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
