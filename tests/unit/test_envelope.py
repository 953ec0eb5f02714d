"""The CloudEvents envelope in Kafka headers."""

from datetime import UTC, datetime

import pytest

from shared.envelope import EnvelopeError, EventEnvelope


def _envelope(**changes: object) -> EventEnvelope:
    values: dict[str, object] = {
        "id": "7f0c",
        "source": "/crm/customer",
        "type": "crm.transaction.posted.v1",
        "subject": "C000123",
        "time": datetime(2026, 11, 23, 8, 30, tzinfo=UTC),
        "correlation_id": "abc123",
    }
    values.update(changes)
    return EventEnvelope(**values)  # type: ignore[arg-type]


class TestBinaryMode:
    def test_attributes_travel_as_ce_headers(self) -> None:
        headers = dict(_envelope().to_headers())

        assert headers["ce_specversion"] == b"1.0"
        assert headers["ce_type"] == b"crm.transaction.posted.v1"
        assert headers["ce_subject"] == b"C000123"
        assert headers["ce_time"] == b"2026-11-23T08:30:00+00:00"
        assert headers["content-type"] == b"application/json"
        assert headers["ce_correlationid"] == b"abc123"

    def test_headers_read_back_to_the_same_envelope(self) -> None:
        envelope = _envelope()

        assert EventEnvelope.from_headers(envelope.to_headers()) == envelope

    def test_optional_extensions_are_left_out_when_absent(self) -> None:
        headers = dict(_envelope(correlation_id=None).to_headers())

        assert "ce_correlationid" not in headers
        assert "ce_traceparent" not in headers

    @pytest.mark.parametrize("missing", ["ce_id", "ce_type", "ce_source", "ce_time"])
    def test_a_missing_required_attribute_is_refused(self, missing: str) -> None:
        headers = [(n, v) for n, v in _envelope().to_headers() if n != missing]

        with pytest.raises(EnvelopeError, match=missing):
            EventEnvelope.from_headers(headers)

    def test_another_spec_version_is_refused(self) -> None:
        headers = [(n, b"0.3" if n == "ce_specversion" else v) for n, v in _envelope().to_headers()]

        with pytest.raises(EnvelopeError, match="specversion"):
            EventEnvelope.from_headers(headers)
