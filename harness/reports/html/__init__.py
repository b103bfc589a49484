"""The HTML report: one self-contained page (``page.py``) built from the typed summaries and bisection files."""
