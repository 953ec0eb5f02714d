"""The arbitration: which of the actions a customer may be offered comes first, and why.

Pure: the caller reads the customer's context and open opportunities. Service recovery comes
before any offer; the offers are ranked by expected value, propensity × value × the bank's
business weight of the action (Pega's arbitration formula, with the context weight left at
one). What may not be offered is withheld, each with its reason, never ranked."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from services.events.detector import LiveRule
from services.events.next_best.catalogue import ActionCatalogue, BankAction, catalogue
from services.events.next_best.policy import offer_order
from services.events.rules import ActionKind
from services.events.state import ERASED


@dataclass(frozen=True)
class OpenOffer:
    """An open opportunity of the customer's, as the ranking needs it."""

    opportunity_id: uuid.UUID
    rule_id: str
    action: str
    product: str | None


@dataclass(frozen=True)
class CustomerContext:
    status: str
    consent: Mapping[str, bool]
    open_complaints: int
    products_held: frozenset[str]
    # Offers made and conversations had within the contact-fatigue window.
    contacts_in_window: int


@dataclass(frozen=True)
class RankedAction:
    action_id: str
    action: BankAction
    opportunity: OpenOffer | None  # None: an always-on offer
    factors: dict[str, Decimal]


@dataclass(frozen=True)
class WithheldAction:
    action_id: str
    opportunity: OpenOffer | None
    reason: str


@dataclass(frozen=True)
class Arbitration:
    ranked: list[RankedAction] = field(default_factory=list)
    withheld: list[WithheldAction] = field(default_factory=list)


def arbitrate(
    context: CustomerContext,
    offers: Sequence[OpenOffer],
    actions: ActionCatalogue,
    *,
    channel: str | None,
    weights: Mapping[str, Decimal],
    fatigue_cap: int,
    propensities: Mapping[str, Decimal] | None = None,
    out_of_reach: frozenset[str] = frozenset(),
) -> Arbitration:
    """``propensities`` are the learned ones (the catalogue's priors when None);
    ``out_of_reach`` the new actions this decision leaves out (their ramp)."""
    candidates: list[tuple[str, OpenOffer | None]] = [
        (actions.action_of(o.action, o.product), o) for o in offers
    ]
    offered = {action_id for action_id, _ in candidates}
    candidates += [
        (action_id, None)
        for action_id, action in actions.always_on().items()
        if action_id not in offered and not context.products_held & set(action.unless_held)
    ]
    result = Arbitration()
    for action_id, opportunity in candidates:
        action = actions.actions[action_id]
        reason = _withheld_because(context, action, opportunity, channel, fatigue_cap)
        if reason is None and action_id in out_of_reach:
            reason = "ramping_up"
        if reason is not None:
            result.withheld.append(WithheldAction(action_id, opportunity, reason))
            continue
        propensity = action.propensity if propensities is None else propensities[action_id]
        weight = weights.get(action_id, Decimal(1))
        factors = {
            "propensity": propensity,
            "value": action.value,
            "weight": weight,
            "expected_value": propensity * action.value * weight,
        }
        result.ranked.append(RankedAction(action_id, action, opportunity, factors))
    result.ranked.sort(
        key=lambda r: offer_order(
            r.action.kind is ActionKind.SERVICE_RECOVERY, r.factors["expected_value"], r.action_id
        )
    )
    return result


def _withheld_because(
    context: CustomerContext,
    action: BankAction,
    opportunity: OpenOffer | None,
    channel: str | None,
    fatigue_cap: int,
) -> str | None:
    """The first reason the action may not be offered now, or None."""
    if context.status == ERASED:
        return "customer_erased"
    if context.status != "active":
        return "customer_not_active"
    if channel is not None and channel not in action.channels:
        return "not_on_channel"
    if not action.kind.is_marketing:
        return None
    if context.open_complaints > 0:
        return "open_complaint"
    asked = (channel,) if channel is not None else action.channels
    if not any(context.consent.get(c) is True for c in asked):
        return "no_consent"
    # An open opportunity was counted when it was offered; an always-on offer would be a
    # new contact.
    if opportunity is None and context.contacts_in_window >= fatigue_cap:
        return "contact_fatigue"
    return None


def decision_order(
    live: LiveRule, weights: Mapping[str, Decimal]
) -> tuple[bool, bool, Decimal, int, str]:
    """Where a rule's match stands among the matches competing for one customer at one moment
    (for their contact slots): as the next best actions rank them, service recovery first,
    then the action's expected value for the bank (see ``next_best``: the propensity its
    model has learned across customers, the prior until it has learned), then the rule's
    priority, never the rules' names, which only break ties so that a replay decides alike.
    Shadow versions go first: they open nothing, so they leave the live decisions as they
    are, and what they would have done is not hidden by what the active version has just
    done with the same facts."""
    action = live.definition.action
    known = catalogue()
    action_id = known.action_of(action.kind, action.product)
    expected = known.expected_value(action_id, weights)
    if live.learned_propensity is not None:
        value, weight = known.actions[action_id].value, weights.get(action_id, Decimal(1))
        expected = live.learned_propensity * value * weight
    return (
        live.status != "shadow",
        action.kind.is_marketing,
        -expected,
        -live.definition.priority,
        live.rule_id,
    )
