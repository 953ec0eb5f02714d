"""The CloudEvents 1.0 envelope, in Kafka binary mode.

The attributes travel as message headers (``ce_id``, ``ce_type``...; ``content-type`` for the
data content type) and the body is the event's JSON alone, so a consumer can route and
deduplicate on headers without parsing bodies, and the body stays a plain pydantic model.
See the CloudEvents Kafka protocol binding, "binary content mode".
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"

Headers = tuple[tuple[str, bytes], ...]


class EnvelopeError(ValueError):
    """The headers are not a CloudEvents envelope we can read."""


@dataclass(frozen=True, slots=True)
class EventEnvelope:
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    correlation_id: str | None = None
    traceparent: str | None = None
    data_content_type: str = JSON_CONTENT_TYPE
    # Where a consumer read it (topic, partition, offset): transport, not a CloudEvents
    # attribute, so never a header; kept for lineage ("which messages made this decision").
    position: tuple[str, int, int] | None = None

    def to_headers(self) -> Headers:
        headers = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.astimezone(UTC).isoformat()),
            ("ce_subject", self.subject),
            ("content-type", self.data_content_type),
        ]
        # Extension attributes: lower-case alphanumerics only, per the CloudEvents spec.
        if self.correlation_id:
            headers.append(("ce_correlationid", self.correlation_id))
        if self.traceparent:
            headers.append(("ce_traceparent", self.traceparent))
        return tuple((name, value.encode()) for name, value in headers)

    @classmethod
    def from_headers(
        cls,
        headers: Iterable[tuple[str, bytes]],
        *,
        position: tuple[str, int, int] | None = None,
    ) -> "EventEnvelope":
        values: dict[str, str] = {}
        try:
            for name, raw in headers:
                values[name] = raw.decode()
        except (UnicodeDecodeError, AttributeError) as error:
            raise EnvelopeError(f"header is not UTF-8 text: {error}") from error
        if values.get("ce_specversion") != SPEC_VERSION:
            raise EnvelopeError(f"ce_specversion is {values.get('ce_specversion')!r}, not 1.0")
        missing = [n for n in ("ce_id", "ce_source", "ce_type", "ce_time") if not values.get(n)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
        try:
            time = datetime.fromisoformat(values["ce_time"])
        except ValueError as error:
            raise EnvelopeError(f"ce_time is not RFC 3339: {values['ce_time']!r}") from error
        return cls(
            id=values["ce_id"],
            source=values["ce_source"],
            type=values["ce_type"],
            subject=values.get("ce_subject", ""),
            time=time,
            correlation_id=values.get("ce_correlationid"),
            traceparent=values.get("ce_traceparent"),
            data_content_type=values.get("content-type", JSON_CONTENT_TYPE),
            position=position,
        )
