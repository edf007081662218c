"""Table declarations for dataset definitions, generated from schema/ (see generate.py)."""
