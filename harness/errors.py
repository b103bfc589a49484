"""The error types a user can act on; each is printed as one line at the top level."""


class HarnessError(Exception):
    """Base for every error the harness reports to its user as one line."""


class ConfigError(HarnessError):
    """A configuration file (``versions.toml``, ``case.toml``) is missing, malformed or inconsistent."""


class PackageIndexError(HarnessError):
    """The package index could not answer (no network, unknown package) and no cached answer exists."""


class EnvironmentBuildError(HarnessError):
    """An environment could not be created for reasons unrelated to the requested versions."""


class CommandNotFoundError(HarnessError):
    """An external program the harness needs (``uv``, ``git``) is not installed."""


class SourceRepositoryError(HarnessError):
    """A source clone cannot serve the commit phase: not a git repository, or a release not found in it."""
