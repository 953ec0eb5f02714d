"""The action catalogue (``actions.yaml``): read once, checked on the way in."""

import functools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field

from services.events.rules import ActionKind, RulePart

CATALOGUE = Path(__file__).parent.parent / "actions.yaml"
OfferChannel = Literal["phone", "branch", "web", "mobile", "sms"]


class BankAction(RulePart):
    """One thing the bank can offer, with its worth and its prior chance of acceptance."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: ActionKind
    product: Annotated[str | None, Field(max_length=60)] = None
    value: Annotated[Decimal, Field(ge=0)]  # an accepted offer's yearly contribution, CNY
    # Before anything is learned: the share of offers accepted the bank expects.
    propensity: Annotated[Decimal, Field(ge=0, le=1)]
    channels: Annotated[tuple[OfferChannel, ...], Field(min_length=1)]
    always_on: bool = False  # offered from the holdings, without a rule firing
    unless_held: tuple[str, ...] = ()  # product types whose holders are not offered it
    # New to the bank, its prior a guess: offered to a growing share of customers as its
    # model gathers evidence (see ``policy.PolicySettings``).
    ramp_up: bool = False


class ActionCatalogue:
    def __init__(self, actions: dict[str, BankAction]) -> None:
        missing = {kind.value for kind in ActionKind} - set(actions)
        if missing:
            # An opportunity's action is found by kind and product, else by its kind alone.
            raise ValueError(f"the catalogue needs a general action of each kind: {missing}")
        self.actions = actions
        self._by_product: dict[tuple[ActionKind, str | None], str] = {
            (a.kind, a.product): i for i, a in actions.items() if a.product
        }

    def action_of(self, kind: str, product: str | None) -> str:
        """The id of the action an opportunity of this kind and product offers."""
        return self._by_product.get((ActionKind(kind), product), kind)

    def expected_value(self, action_id: str, weights: Mapping[str, Decimal]) -> Decimal:
        """Propensity × value × the bank's business weight of the action (1 unless named)."""
        action = self.actions[action_id]
        return action.propensity * action.value * weights.get(action_id, Decimal(1))

    def always_on(self) -> dict[str, BankAction]:
        return {i: a for i, a in self.actions.items() if a.always_on}


@functools.cache
def catalogue(path: Path = CATALOGUE) -> ActionCatalogue:
    documents = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return ActionCatalogue({str(i): BankAction.model_validate(d) for i, d in documents.items()})
