"""The topic and event catalogue, and the AsyncAPI document generated from it."""

import re

import pytest

import contracts.base
from contracts.base import DomainEvent
from contracts.catalogue import PRODUCER_OF, TOPIC_OF, EventType, Topic, topic_of
from shared.asyncapi import build_asyncapi


class TestCatalogue:
    def test_every_event_type_is_versioned_and_dotted(self) -> None:
        for event_type in EventType:
            assert re.fullmatch(r"crm\.[a-z_]+\.[a-z_]+\.v\d+", event_type), event_type

    def test_every_event_type_has_one_topic_and_every_topic_a_producer(self) -> None:
        assert set(TOPIC_OF) == set(EventType)
        assert set(PRODUCER_OF) == set(Topic)

    def test_design_catalogue_placement(self) -> None:
        assert topic_of(EventType.LEAD_CONVERTED) is Topic.CUSTOMER
        assert topic_of(EventType.ACCOUNT_MATURED) is Topic.TRANSACTIONS
        assert topic_of(EventType.OUTBOUND_ATTEMPTED) is Topic.CONTACT
        assert Topic.COMPLAINTS.dead_letter == "crm.complaints.v1.dlq"


@pytest.fixture
def private_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Models declared by a test must not take a catalogue type from the services' own models.
    monkeypatch.setattr(contracts.base, "_REGISTRY", {})


@pytest.mark.usefixtures("private_registry")
class TestEventModels:
    def test_a_model_takes_its_topic_from_the_catalogue_and_its_key_from_the_customer(
        self,
    ) -> None:
        class SurveyAnsweredForTest(DomainEvent):
            event_type = EventType.SURVEY_ANSWERED
            customer_id: str
            score: int

        event = SurveyAnsweredForTest(customer_id="C42", score=9)

        assert SurveyAnsweredForTest.topic == "crm.customer.v1"
        assert event.subject == "C42"

    def test_events_are_immutable(self) -> None:
        class InteractionForTest(DomainEvent):
            event_type = EventType.INTERACTION_RECORDED
            customer_id: str

        event = InteractionForTest(customer_id="C1")
        with pytest.raises(ValueError, match="frozen"):
            event.customer_id = "C2"  # type: ignore[misc]


class TestAsyncApi:
    def test_every_topic_and_its_dead_letter_topic_is_a_channel(self) -> None:
        document = build_asyncapi()

        addresses = {channel["address"] for channel in document["channels"].values()}
        assert addresses == {str(t) for t in Topic} | {f"{t}.dlq" for t in Topic}
        assert document["asyncapi"].startswith("3.")

    def test_every_event_type_is_a_message_with_cloudevents_headers(self) -> None:
        messages = build_asyncapi()["components"]["messages"]

        assert {m["name"] for m in messages.values()} == {str(t) for t in EventType}
        assert all("ce_id" in m["headers"]["properties"] for m in messages.values())
