"""Small utilities for the web tier's access logs."""
