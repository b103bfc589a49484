"""Case runners: execute a case's replay in a built environment and observe what happens."""
