"""The screen pop: what the agent's desktop shows as the call rings, built from the customer
view the customer service answers with, the next best actions the events service ranks, and
this service's own knowledge of the tier's policy and the scripts. Personal details arrive
masked, and the name is masked further here."""

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from services.contact_center.calls.customer_client import CUSTOMER_SERVICE
from services.contact_center.calls.events_client import EVENTS_SERVICE
from services.contact_center.calls.identification import Identification
from services.contact_center.calls.schemas import (
    ComplaintCard,
    InteractionCard,
    NextBestActionCard,
    OpportunityCard,
    ProductCard,
    ProfileCard,
    Ranking,
    ScreenPop,
    TierPolicyCard,
)
from services.contact_center.config import Settings
from shared.logging import get_logger
from shared.masking import mask_name

log = get_logger(__name__)

RECENT_INTERACTIONS = 5


def screen_pop(
    identity: Identification,
    view: dict[str, Any] | None,
    ranking: Ranking | None,
    *,
    settings: Settings,
) -> ScreenPop:
    """The customer view from the customer service and the ranking from the events service,
    with this service's own knowledge of the tier's policy and the scripts. An identified
    caller without a view or without a ranking is a degraded pop, naming what is missing."""
    policy = TierPolicyCard(
        queue_priority=identity.queue_priority
        if identity.queue_priority is not None
        else settings.default_queue_priority,
        route_to_vip_queue=identity.route_to_vip_queue,
    )
    pop = ScreenPop(
        customer_id=identity.customer_id,
        identified_by=identity.identified_by,
        value_tier=identity.value_tier,
        policy=policy,
        profile=None,
        total_balance_cny=None,
        products=[],
        recent_interactions=[],
        open_complaints=[],
        next_best_actions=_offers(ranking, settings),
        next_best_decision_id=ranking.decision_id if ranking is not None else None,
        open_opportunities=[],
        degraded=[
            source
            for source, answer in ((CUSTOMER_SERVICE, view), (EVENTS_SERVICE, ranking))
            if identity.customer_id and answer is None
        ],
    )
    if view is None:
        return pop
    try:
        return _with_view(pop, view, settings)
    except (ValidationError, KeyError, TypeError) as error:
        # A view this service cannot read is a fault upstream; the call still gets its pop.
        log.warning(
            "screen_pop.unreadable_view", customer_id=str(identity.customer_id), error=str(error)
        )
        return pop.model_copy(update={"degraded": [CUSTOMER_SERVICE, *pop.degraded]})


def _offers(ranking: Ranking | None, settings: Settings) -> list[NextBestActionCard]:
    if ranking is None:
        return []
    return [
        item.model_copy(update={"script": settings.script_for(item.kind, item.product)})
        for item in ranking.items[: settings.screen_pop_actions]
    ]


def _with_view(pop: ScreenPop, view: dict[str, Any], settings: Settings) -> ScreenPop:
    customer = view["customer"]
    opportunities = []
    for item in view.get("open_opportunities", []):
        card = OpportunityCard.model_validate(item)
        opportunities.append(
            card.model_copy(update={"script": settings.script_for(card.action, card.product)})
        )
    profile = ProfileCard.model_validate(customer)
    if profile.kind == "individual":
        # Enough to greet the caller (张先生), not enough to read out the whole name.
        profile = profile.model_copy(update={"name": mask_name(profile.name)})
    total = view.get("total_balance_cny")
    return pop.model_copy(
        update={
            "value_tier": pop.value_tier or customer.get("segments", {}).get("value_tier"),
            "profile": profile,
            "total_balance_cny": Decimal(str(total)) if total is not None else None,
            "products": [ProductCard.model_validate(a) for a in view.get("accounts", [])],
            "recent_interactions": [
                InteractionCard.model_validate(i)
                for i in view.get("recent_interactions", [])[:RECENT_INTERACTIONS]
            ],
            "open_complaints": [
                ComplaintCard.model_validate(c) for c in view.get("open_complaints", [])
            ],
            "open_opportunities": opportunities,
        }
    )
