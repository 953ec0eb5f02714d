"""The message a consumer sends to ``<topic>.dlq`` for one it could not handle: the original
key, value and headers, and headers saying why, which group gave up, and where it came from
(documented in the AsyncAPI document's dead-letter messages)."""

from contracts.catalogue import dead_letter_topic
from shared.bus import OutgoingMessage, ReceivedMessage

_ERROR_LENGTH = 4000


def dead_letter(message: ReceivedMessage, error: BaseException, *, group: str) -> OutgoingMessage:
    extra = (
        ("dlq_error", f"{type(error).__name__}: {error}"[:_ERROR_LENGTH]),
        ("dlq_consumer_group", group),
        ("dlq_original_topic", message.topic),
        ("dlq_original_partition", str(message.partition)),
        ("dlq_original_offset", str(message.offset)),
    )
    return OutgoingMessage(
        topic=dead_letter_topic(message.topic),
        key=message.key,
        value=message.value,
        headers=(*message.headers, *((name, value.encode()) for name, value in extra)),
    )
