"""Small shared helpers (moved here from notifier/helpers.py)."""
