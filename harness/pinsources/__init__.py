"""Pin files: one reader per format (interface.py says what they return); policy.py, how strict each command is."""
