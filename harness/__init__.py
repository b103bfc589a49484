"""The harness: replay recorded failures across dependency versions, bisect them, and gate upgrades."""

__version__ = "0.1.0"
