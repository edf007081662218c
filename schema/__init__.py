"""The standardised MAT dataset: one YAML file per table or view, plus code lists.

`load_schema()` reads and checks the files of this folder (see FORMAT.md) and returns a `Schema`;
`schema.ddl` derives the SQL tables, `schema.reference` the Markdown reference, and `schema.cli` the
`osschools schema` commands.
"""

from schema.loader import SCHEMA_DIR, load_schema
from schema.models import Code, Codelist, Column, Reference, Schema, Table
from schema.problems import Problem, SchemaError

__all__ = [
    "SCHEMA_DIR",
    "Code",
    "Codelist",
    "Column",
    "Problem",
    "Reference",
    "Schema",
    "SchemaError",
    "Table",
    "load_schema",
]
