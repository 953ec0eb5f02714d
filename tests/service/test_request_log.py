"""What an operator reads: one line per request with its method, route template, status,
duration, correlation id and the caller's role, and nothing personal; the same warning repeated
is one line with a count, not a flood; Chinese stays readable."""

import json
import time
from typing import Any

import pytest
import structlog

import shared.http
from crm.registry import SERVICES
from shared.auth.roles import Role
from shared.auth.tokens import development_bearer
from shared.logging import (
    LONGEST_FIELD,
    RepeatedWarnings,
    bound_fields,
    configure_logging,
    current_correlation_id,
)
from tests.service.conftest import serving, settings_for

PHONE = "13912345678"


class RecordingLog:
    """Stands in for the middleware's logger: what it logged, with the correlation id the
    log's own processor would add."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, "correlation_id": current_correlation_id(), **fields})


async def test_each_request_is_one_line_without_personal_data(
    migrated_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = RecordingLog()
    monkeypatch.setattr(shared.http, "log", recording)
    spec = SERVICES["contact_center"]
    app = spec.create_app(settings_for(spec, migrated_database))
    async with serving(app) as client:
        scheduled = await client.post(
            "/v1/callbacks",
            json={"phone_number": PHONE, "requested_for": "2026-12-01T10:00:00+08:00"},
            headers={"X-Correlation-ID": "corr-request-log-1"},
        )
        read = await client.get(
            f"/v1/callbacks/{scheduled.json()['id']}", headers=development_bearer(Role.AUDITOR)
        )
        refused = await client.get("/v1/callbacks", params={"due_by": "soon"})

    assert (scheduled.status_code, read.status_code, refused.status_code) == (201, 200, 422)
    assert [(r["method"], r["route"], r["status"], r["role"]) for r in recording.lines] == [
        ("POST", "/v1/callbacks", 201, "system"),
        ("GET", "/v1/callbacks/{callback_id}", 200, "auditor"),
        ("GET", "/v1/callbacks", 422, "system"),
    ]
    assert recording.lines[0]["correlation_id"] == "corr-request-log-1"
    assert all(isinstance(line["duration_ms"], float) for line in recording.lines)
    logged = json.dumps(recording.lines)
    assert PHONE not in logged
    assert scheduled.json()["id"] not in logged  # the template, never the path's id


def test_a_repeated_warning_is_one_line_with_a_count() -> None:
    throttle = RepeatedWarnings(window=60)
    shown = []
    for _ in range(50):
        try:
            shown.append(throttle(None, "warning", {"event": "manager.none_available"}))
        except structlog.DropEvent:
            continue
    other = throttle(None, "warning", {"event": "consumer.unavailable"})
    information = [throttle(None, "info", {"event": "request"}) for _ in range(3)]

    assert shown == [{"event": "manager.none_available"}]
    assert other == {"event": "consumer.unavailable"}
    assert len(information) == 3


def test_the_next_line_after_a_window_says_how_many_were_held_back() -> None:
    throttle = RepeatedWarnings(window=0.05)
    passed = 0
    for _ in range(5):
        try:
            throttle(None, "warning", {"event": "job.failed"})
            passed += 1
        except structlog.DropEvent:
            continue
    time.sleep(0.06)
    after = throttle(None, "warning", {"event": "job.failed"})
    assert passed == 1
    assert after == {"event": "job.failed", "held_back": 4}


def test_chinese_stays_readable_in_the_json_lines() -> None:
    configure_logging()
    renderer = structlog.get_config()["processors"][-1]
    line = renderer(None, "info", {"event": "customer.registered", "branch": "上海分行"})
    assert "上海分行" in line


def test_a_long_field_is_cut_to_a_bounded_line() -> None:
    keys = ", ".join(str(n) for n in range(3000))
    bounded = bound_fields(None, "warning", {"event": "consumer.unavailable", "error": keys})
    assert len(bounded["error"]) < LONGEST_FIELD + 50
    assert bounded["error"].endswith(f"({len(keys) - LONGEST_FIELD} more characters)")
