"""Environment providers: turn a set of pins into a Python environment to replay cases in."""
