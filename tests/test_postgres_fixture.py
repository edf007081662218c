import pytest
import sqlalchemy

pytestmark = pytest.mark.integration


def test_postgres_url_gives_a_working_throwaway_database(postgres_url: str) -> None:
    # The database is shared by the whole session, so this test keeps to a schema of its own.
    assert sqlalchemy.make_url(postgres_url).database.startswith("osschools_test_")
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("CREATE SCHEMA fixture_check"))
            connection.execute(
                sqlalchemy.text("CREATE TABLE fixture_check.pupils (pupil_id integer, upn text)")
            )
            connection.execute(
                sqlalchemy.text(
                    "INSERT INTO fixture_check.pupils VALUES (1, 'A123456789012'), (2, NULL)"
                )
            )
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text("SELECT pupil_id, upn FROM fixture_check.pupils ORDER BY pupil_id")
            ).all()
        assert [tuple(row) for row in rows] == [(1, "A123456789012"), (2, None)]
    finally:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("DROP SCHEMA IF EXISTS fixture_check CASCADE"))
        engine.dispose()
