"""Reports people read: the HTML overview, progress on long runs, and paste-ready reproducer exports."""
