"""The CI gate on dependency upgrades: candidate versions in, a verdict with an exit code and reports out."""
