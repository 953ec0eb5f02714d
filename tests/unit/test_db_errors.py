"""Which database errors mean "unavailable, retry later" (a 503) and which are the request's
or the code's: told by SQLSTATE, as PostgreSQL reports it through asyncpg."""

import pytest
from sqlalchemy.exc import DBAPIError

from shared.db import is_retryable_conflict, is_unavailable


class _PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> DBAPIError:
    return DBAPIError("SELECT 1", None, _PostgresError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        "57P03",  # cannot_connect_now: the server is starting up or shutting down
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "53300",  # too_many_connections
        "08006",  # connection_failure
        "08001",  # sqlclient_unable_to_establish_sqlconnection
    ],
)
def test_the_server_going_or_full_is_unavailable(sqlstate: str) -> None:
    assert is_unavailable(_error(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        "23505",  # unique_violation: the request's fault
        "42P01",  # undefined_table: the code's fault
        "40P01",  # deadlock_detected: a lost race, retried, not an outage
    ],
)
def test_faults_of_the_request_or_the_code_are_not(sqlstate: str) -> None:
    assert not is_unavailable(_error(sqlstate))


def test_a_lost_race_is_a_retryable_conflict() -> None:
    assert is_retryable_conflict(_error("40P01"))
    assert is_retryable_conflict(_error("40001"))
    assert not is_retryable_conflict(_error("57P03"))
