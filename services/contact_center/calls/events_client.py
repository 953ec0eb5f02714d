"""The events service, asked over HTTP: the customer's next best actions, ranked by its one
arbitration, for the screen pop and the outbound call list (short timeout, no retry: see
``service_client``)."""

import uuid

import httpx
from pydantic import ValidationError

from services.contact_center.calls.schemas import Ranking
from services.contact_center.calls.service_client import ServiceClient
from services.contact_center.config import Settings
from shared.auth.roles import Role
from shared.logging import get_logger

log = get_logger(__name__)

EVENTS_SERVICE = "events_service"
PHONE = "phone"  # the contact centre offers on the phone, in and out
MOST_ACTIONS = 20  # the ranking's own upper bound on ``limit``

NOTHING_RANKED = Ranking(items=[])


class EventsClient(ServiceClient):
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        super().__init__(
            settings,
            name=EVENTS_SERVICE,
            base_url=settings.events_service_url,
            timeout_seconds=settings.events_service_timeout_seconds,
            # Read as the contact centre's agents read opportunities: any customer's.
            role=Role.CONTACT_CENTRE_AGENT,
            transport=transport,
        )

    async def next_best_actions(
        self, customer_id: uuid.UUID, *, limit: int = MOST_ACTIONS
    ) -> Ranking | None:
        """The customer's ranking for the phone, best first; empty when the detector does not
        know the customer (yet); None when the events service did not answer in time, or
        answered with what this service cannot read."""
        path = f"/v1/customers/{customer_id}/next-best-actions"
        response = await self._ask(path, {"channel": PHONE, "limit": str(limit)})
        if response is None or response.status_code not in (200, 404):
            return None
        if response.status_code == 404:
            return NOTHING_RANKED
        try:
            return Ranking.model_validate(response.json())
        except (ValidationError, ValueError) as error:
            log.warning("events_service.unreadable_ranking", path=path, error=str(error))
            return None
