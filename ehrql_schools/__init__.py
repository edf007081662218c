"""The query language for school data: query model, engines, table declarations and dataset CLI.

Dataset definitions import the language from here and the tables from `ehrql_schools.tables`:

    from ehrql_schools import create_dataset, days
    from ehrql_schools.tables.schools import pupils
"""

from ehrql_schools.query_language import (
    QueryError,
    case,
    codelist_from_csv,
    create_dataset,
    days,
    get_parameter,
    maximum_of,
    minimum_of,
    months,
    weeks,
    when,
    years,
)

__all__ = [
    "QueryError",
    "case",
    "codelist_from_csv",
    "create_dataset",
    "days",
    "get_parameter",
    "maximum_of",
    "minimum_of",
    "months",
    "weeks",
    "when",
    "years",
]
