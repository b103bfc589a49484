"""The A/A check: probe one environment many times to learn whether a case is deterministic there."""
