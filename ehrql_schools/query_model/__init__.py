"""The query model: immutable nodes between the query language and the engines."""
