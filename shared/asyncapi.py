"""The event catalogue as an AsyncAPI 3.0 document, generated from the code.

Topics and event types come from :mod:`contracts.catalogue`; each event type's payload schema
comes from the pydantic model registered for it (types whose model is not written yet are
listed with an open object schema, so the document never claims more than the code knows).
A model's nested models go to ``components/schemas`` and the payloads refer to them there: a
``$ref`` resolves against the document's root, where a payload's own ``$defs`` are not.
"""

from typing import Any

from contracts.base import DomainEvent, registered_models
from contracts.catalogue import DEAD_LETTER_SUFFIX, PRODUCER_OF, TOPIC_OF, Topic
from contracts.examples import EXAMPLES

ASYNCAPI_VERSION = "3.0.0"
SCHEMA_REF = "#/components/schemas/{model}"

CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary content mode.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Event id; consumers deduplicate on it."},
        "ce_source": {"type": "string", "examples": ["/crm/customer"]},
        "ce_type": {"type": "string", "examples": ["crm.transaction.posted.v1"]},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "The customer id; also the key."},
        "content-type": {"type": "string", "const": "application/json"},
        "ce_correlationid": {"type": "string", "description": "Follows the originating request."},
        "ce_traceparent": {"type": "string", "description": "W3C trace context, when tracing."},
    },
}

DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original message's headers, plus why it could not be handled.",
    "properties": {
        "dlq_error": {"type": "string"},
        "dlq_consumer_group": {"type": "string"},
        "dlq_original_topic": {"type": "string"},
        "dlq_original_partition": {"type": "string"},
        "dlq_original_offset": {"type": "string"},
    },
}


def _message_name(event_type: str) -> str:
    # crm.transaction.posted.v1 -> transaction.posted.v1
    return event_type.removeprefix("crm.")


def build_asyncapi() -> dict[str, Any]:
    """The document: per topic, its messages, its dead-letter channel and its publish
    operation, in the order of :class:`Topic` and, within a topic, of the catalogue."""
    models = registered_models()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for topic in Topic:
        topic_messages = {
            _message_name(event_type): _message(event_type, models.get(event_type), schemas)
            for event_type, event_topic in TOPIC_OF.items()
            if event_topic is topic
        }
        messages.update(topic_messages)
        channel_id = topic.name.lower()
        channels[channel_id] = _channel(topic, list(topic_messages))
        channels[f"{channel_id}_dlq"] = _dead_letter_channel(topic)
        operations[f"publish_{channel_id}"] = _publish_operation(channel_id, sorted(topic_messages))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Bank CRM events",
            "version": "1.0.0",
            "description": (
                "Events the bank CRM services publish on Kafka. Every message carries the "
                "CloudEvents 1.0 envelope in its headers; the key is the customer id, so one "
                "customer's events keep their order."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {"host": "kafka:9092", "protocol": "kafka", "description": "Compose topology"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def _message(
    event_type: str, model: type[DomainEvent] | None, schemas: dict[str, Any]
) -> dict[str, Any]:
    """The message of one event type; the schemas its payload refers to are added to
    ``schemas``."""
    name = _message_name(event_type)
    payload: dict[str, Any]
    if model is None:
        payload = {"type": "object", "description": "Schema to be defined by its producer."}
    else:
        payload = model.model_json_schema(ref_template=SCHEMA_REF)
        for schema_name, schema in payload.pop("$defs", {}).items():
            if schemas.setdefault(schema_name, schema) != schema:
                raise ValueError(f"two event models define different schemas {schema_name!r}")
    message: dict[str, Any] = {
        "name": str(event_type),
        "title": model.__name__ if model is not None else name,
        "contentType": "application/json",
        "headers": CLOUDEVENTS_HEADERS,
        "payload": payload,
    }
    example = EXAMPLES.get(event_type)
    if example is not None:
        message["examples"] = [{"name": name, "payload": example.model_dump(mode="json")}]
    return message


def _channel(topic: Topic, message_names: list[str]) -> dict[str, Any]:
    return {
        "address": str(topic),
        "description": f"Published by: {', '.join(PRODUCER_OF[topic])}. Key: customer id.",
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in message_names},
    }


def _dead_letter_channel(topic: Topic) -> dict[str, Any]:
    return {
        "address": f"{topic}{DEAD_LETTER_SUFFIX}",
        "description": "Messages of the topic that a consumer could not handle.",
        "messages": {
            "deadLetter": {
                "name": "dead-letter",
                "contentType": "application/json",
                "headers": DEAD_LETTER_HEADERS,
                "payload": {"description": "The original message body, unchanged."},
            }
        },
    }


def _publish_operation(channel_id: str, message_names: list[str]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "messages": [
            {"$ref": f"#/channels/{channel_id}/messages/{name}"} for name in message_names
        ],
    }
