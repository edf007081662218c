"""TODO: being written."""

from __future__ import annotations

from job_runner.disclosure.profiles import Profile
from job_runner.disclosure.report import Finding
from job_runner.disclosure.tables import Table


class ReleasedTables:
    """The tables released before, indexed for the differencing check."""

    @classmethod
    def from_folder(cls, folder) -> ReleasedTables:
        return cls()


def check_differencing(
    tables: list[Table], rules: Profile, released: ReleasedTables | None
) -> dict[str, list[Finding]]:
    return {}
