"""Words that cannot name a table or column without quoting, in DuckDB or PostgreSQL.

DuckDB: `duckdb_keywords()` with category `reserved` or `type_function` (DuckDB 2.0).
PostgreSQL: `pg_get_keywords()` with category R (reserved) or T (reserved, can be function or
type) (PostgreSQL 15). The schema's names are used unquoted in view SQL, in SQL written by
researchers (sqlrunner) and in the generated DDL, so the checker rejects these words.
"""

from __future__ import annotations

DUCKDB_RESERVED = frozenset(
    """
    all analyse analyze and any array as asc asymmetric both case cast check collate column
    constraint create default deferrable desc describe distinct do else end except false fetch for
    foreign from group having in initially intersect into lambda lateral leading limit not null
    offset on only or order pivot pivot_longer pivot_wider placing primary qualify references
    returning select show some summarize symmetric table then to trailing true union unique
    unpivot using variadic when where window with
    anti asof at authorization binary by collation columns concurrently cross freeze full
    generated glob ilike inner is isnull join left like map natural notnull outer overlaps
    positional right semi similar struct tablesample try_cast tuple unpack verbose
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

POSTGRESQL_RESERVED = frozenset(
    """
    all analyse analyze and any array as asc asymmetric authorization binary both case cast check
    collate collation column concurrently constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default deferrable
    desc distinct do else end except false fetch for foreign freeze from full grant group having
    ilike in initially inner intersect into is isnull join lateral leading left like limit
    localtime localtimestamp natural not notnull null offset on only or order outer overlaps
    placing primary references returning right select session_user similar some symmetric table
    tablesample then to trailing true union unique user using variadic verbose when where window
    with
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

RESERVED_WORDS = DUCKDB_RESERVED | POSTGRESQL_RESERVED


def reserved_in(name: str) -> str | None:
    """Which databases reserve `name` ("DuckDB", "PostgreSQL", "DuckDB and PostgreSQL"), or None."""
    where = [
        database
        for database, words in (("DuckDB", DUCKDB_RESERVED), ("PostgreSQL", POSTGRESQL_RESERVED))
        if name in words
    ]
    return " and ".join(where) or None
