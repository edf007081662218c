"""Engines that run query model datasets: in-memory (reference), DuckDB, PostgreSQL."""
