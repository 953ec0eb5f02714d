"""The arbitration of next best actions, without a database."""

import uuid
from decimal import Decimal

import pytest

from services.events.next_best.catalogue import ActionCatalogue, BankAction, catalogue
from services.events.next_best.ranking import CustomerContext, OpenOffer, arbitrate
from services.events.rule_admin import BUILTIN_RULES, read_rule_file

ACTIVE = CustomerContext(
    status="active",
    consent={"phone": True},
    open_complaints=0,
    products_held=frozenset({"current"}),
    contacts_in_window=0,
)


def _offer(action: str, product: str | None = None) -> OpenOffer:
    return OpenOffer(uuid.uuid4(), "some_rule", action, product)


def _ranked(context: CustomerContext, *offers: OpenOffer, **weights: int) -> list[str]:
    arbitration = arbitrate(
        context,
        offers,
        catalogue(),
        channel="phone",
        weights={k: Decimal(v) for k, v in weights.items()},
        fatigue_cap=2,
    )
    return [r.action_id for r in arbitration.ranked]


def test_service_recovery_comes_before_any_offer_whatever_its_value() -> None:
    ranked = _ranked(ACTIVE, _offer("retention_call"), _offer("service_recovery"))
    assert ranked[:2] == ["service_recovery", "retention_call"]


def test_an_offer_s_product_finds_its_action_else_its_kind_s() -> None:
    ranked = _ranked(ACTIVE, _offer("cross_sell", "payroll_package"), _offer("up_sell", "gold"))
    assert {"payroll_package", "up_sell"} <= set(ranked)


def test_a_held_product_is_not_offered_and_an_open_offer_is_not_offered_twice() -> None:
    holder = CustomerContext(**{**ACTIVE.__dict__, "products_held": frozenset({"loan"})})
    ranked = _ranked(holder, _offer("cross_sell", "card"))
    assert "loan_offer" not in ranked
    assert ranked.count("card_cross_sell") == 1


def test_weights_reorder_by_expected_value() -> None:
    assert _ranked(ACTIVE)[0] == "wealth_up_sell"  # 0.04 × 1200 = 48
    assert _ranked(ACTIVE, card_cross_sell=3)[0] == "card_cross_sell"  # 0.06 × 300 × 3 = 54


def test_every_built_in_rule_s_action_is_in_the_catalogue() -> None:
    known = catalogue()
    for rule_id, rule in read_rule_file(BUILTIN_RULES).items():
        action_id = known.action_of(rule.action.kind, rule.action.product)
        assert action_id in known.actions, rule_id
        if rule.action.product:
            assert known.actions[action_id].product == rule.action.product, rule_id


def test_a_catalogue_without_a_general_action_of_each_kind_is_refused() -> None:
    only = BankAction(
        name="Card",
        kind="cross_sell",
        product="card",
        value=Decimal(1),
        propensity=Decimal("0.1"),
        channels=("phone",),
    )
    with pytest.raises(ValueError, match="general action of each kind"):
        ActionCatalogue({"card": only})
