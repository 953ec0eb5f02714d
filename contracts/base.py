"""Event bodies: one frozen pydantic model per event type, registered by its type string.

Each service's events are declared in ``contracts/<service>.py`` by subclassing
:class:`DomainEvent`; the class names the type, and the catalogue names the topic. Consumers
decode a message's body with the model registered for its ``ce_type`` header.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from contracts.catalogue import EventType, topic_of


class DomainEvent(BaseModel):
    """Something that happened, in the past tense (``TransactionPosted``).

    ``subject`` is the CloudEvents subject and the bus key: the customer the event is about,
    so that one customer's events stay in order on one partition. Events about something with
    no customer (a caller the bank does not know) use their own aggregate id instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    # Derived from the catalogue for catalogue types; set explicitly only by tests' own types.
    topic: ClassVar[str]

    @property
    def subject(self) -> str:
        customer_id = getattr(self, "customer_id", None)
        if customer_id is None:
            raise NotImplementedError(
                f"{type(self).__name__} has no customer_id; it must define `subject`"
            )
        return str(customer_id)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is None:
            return
        if "topic" not in cls.__dict__:
            cls.topic = str(topic_of(EventType(event_type)))
        _register(cls, event_type)


_REGISTRY: dict[str, type[DomainEvent]] = {}


def _register(model: type[DomainEvent], event_type: str) -> None:
    existing = _REGISTRY.get(event_type)
    if existing is not None and existing.__qualname__ != model.__qualname__:
        raise TypeError(f"{event_type} is already the type of {existing.__qualname__}")
    _REGISTRY[event_type] = model


def model_for(event_type: str) -> type[DomainEvent] | None:
    return _REGISTRY.get(event_type)


def registered_models() -> dict[str, type[DomainEvent]]:
    return dict(_REGISTRY)
