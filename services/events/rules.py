"""Trigger rules as data: what a rule looks at, the conditions it tests, what it recommends.

A rule is a typed document, not a string of code: each condition is one of a closed set of
kinds, each checked on the way in against the events the rule listens to, so a rule that
cannot be evaluated is refused with the field and the reason, never discovered at 3 a.m. on
the live stream."""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, WithJsonSchema

from contracts.base import DomainEvent
from contracts.complaints import ComplaintClosed, ComplaintReceived
from contracts.customer import (
    AccountClosed,
    AccountOpened,
    AttritionBand,
    CustomerErased,
    CustomerManagerAssigned,
    CustomerRegistered,
    CustomerSegmentChanged,
    CustomerUpdated,
    InteractionRecorded,
    Quadrant,
    TransactionPosted,
    TransactionReversed,
)
from shared.requests import RequestModel, decimal_schema

# The events a rule may listen to, by their catalogue name without prefix and version.
TRIGGER_EVENTS: dict[str, type[DomainEvent]] = {
    "transaction.posted": TransactionPosted,
    "account.opened": AccountOpened,
    "account.closed": AccountClosed,
    "interaction.recorded": InteractionRecorded,
    "customer.registered": CustomerRegistered,
    "customer.updated": CustomerUpdated,
    "customer.segment_changed": CustomerSegmentChanged,
    "customer.manager_assigned": CustomerManagerAssigned,
    "complaint.received": ComplaintReceived,
    "complaint.closed": ComplaintClosed,
}
# Events the detector keeps a customer's state by, though no rule may listen to them: an
# erasure is no occasion to contact anyone, and a reversal corrects a mistake of the bank's.
STATE_EVENTS: dict[str, type[DomainEvent]] = {
    "customer.erased": CustomerErased,
    "transaction.reversed": TransactionReversed,
}
CONSUMED_EVENTS: dict[str, type[DomainEvent]] = {**TRIGGER_EVENTS, **STATE_EVENTS}


class RulePart(RequestModel):
    """A rule's parts are values: once parsed, a rule does not change under the detector."""

    model_config = ConfigDict(frozen=True)


class Comparison(StrEnum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    IN = "in"
    NOT_IN = "not_in"


ORDERING = frozenset({Comparison.GT, Comparison.GE, Comparison.LT, Comparison.LE})
NumericComparison = Literal[">", ">=", "<", "<=", "==", "!="]
Days = Annotated[int, Field(ge=1, le=366)]
# A threshold a condition compares with: an amount, a count, a share (at most 18 digits before
# the point and 4 after).
Threshold = Annotated[
    Decimal,
    Field(gt=-(10**18), lt=10**18, max_digits=22, decimal_places=4),
    decimal_schema(
        digits=18,
        places=4,
        description="At most 18 digits before the point and 4 after.",
        example="50000",
    ),
]
Word = Annotated[str, Field(max_length=200)]


class EventField(RulePart):
    """A field of the event that arrived (``amount >= 50000``, ``kind in [...]``)."""

    kind: Literal["event_field"]
    field: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    op: Comparison
    # Decimal first: JSON 1 and 0 are numbers here, not true and false.
    value: Threshold | bool | Word | Annotated[list[Word], Field(max_length=100)] | None


class Window(RulePart):
    """Money in or out of the customer over the last ``days`` days, today included."""

    kind: Literal["window"]
    measure: Literal["sum", "count", "max"]
    flow: Literal["in", "out"]
    days: Days
    op: NumericComparison
    value: Threshold


class RelativeToHistory(RulePart):
    """The event's amount against the customer's own average movement in the same direction
    over ``days`` days: a deposit ``factor`` times what this customer usually moves."""

    kind: Literal["relative_to_history"]
    days: Days
    factor: Annotated[
        Decimal,
        Field(gt=0, lt=10**6, max_digits=10, decimal_places=4),
        decimal_schema(
            digits=6,
            places=4,
            positive=True,
            description="How many times the usual.",
            example="5",
        ),
    ]
    min_history: Annotated[int, Field(ge=1, le=400)] = 3


class BalanceChange(RulePart):
    """Deposit balances now against ``days`` days ago, in percent (-30 = fell by 30%)."""

    kind: Literal["balance_change"]
    days: Days
    op: NumericComparison
    percent: Annotated[
        Decimal,
        Field(gt=-(10**6), lt=10**6, max_digits=10, decimal_places=4),
        decimal_schema(
            digits=6, places=4, description="Percent, -30 for a fall of 30%.", example="-30"
        ),
    ]


class DaysSinceActivity(RulePart):
    kind: Literal["days_since_activity"]
    op: NumericComparison
    days: Annotated[int, Field(ge=0, le=3660)]


class NewRecurringCredit(RulePart):
    """A credit from the same payer in a second consecutive month (a new salary, say)."""

    kind: Literal["new_recurring_credit"]


class Segment(RulePart):
    kind: Literal["segment"]
    tiers: Annotated[
        list[Literal["premium", "key", "ordinary", "restricted", "potential"]],
        Field(min_length=1, max_length=5),
    ]


class InQuadrant(RulePart):
    """The customer's satisfaction/loyalty quadrant is one of these, as the customer service
    last placed it (``customer.segment_changed`` with dimension ``quadrant``)."""

    kind: Literal["quadrant"]
    quadrants: Annotated[list[Quadrant], Field(min_length=1, max_length=4)]


class InAttritionRisk(RulePart):
    """The customer's attrition risk band is one of these, as the customer service last read
    it from its learned model (``customer.segment_changed`` with dimension
    ``attrition_risk``)."""

    kind: Literal["attrition_risk"]
    bands: Annotated[list[AttritionBand], Field(min_length=1, max_length=3)]


class ContactsWithin(RulePart):
    kind: Literal["contacts_within"]
    days: Days
    op: NumericComparison
    count: Annotated[int, Field(ge=0, le=10_000)]


class BirthdayWithin(RulePart):
    kind: Literal["birthday_within"]
    days: Annotated[int, Field(ge=0, le=60)]


class MaturityWithin(RulePart):
    kind: Literal["maturity_within"]
    days: Annotated[int, Field(ge=0, le=90)]
    product_type: Literal["term_deposit", "wealth"] = "term_deposit"


Condition = Annotated[
    EventField
    | Window
    | RelativeToHistory
    | BalanceChange
    | DaysSinceActivity
    | NewRecurringCredit
    | Segment
    | InQuadrant
    | InAttritionRisk
    | ContactsWithin
    | BirthdayWithin
    | MaturityWithin,
    Field(discriminator="kind"),
]

# Conditions that pick the customers a scheduled rule looks at; one is needed.
SCHEDULE_SELECTORS = (BirthdayWithin, MaturityWithin, DaysSinceActivity)
SCHEDULE_ONLY = (BirthdayWithin, MaturityWithin)


class ActionKind(StrEnum):
    RETENTION_CALL = "retention_call"
    CROSS_SELL = "cross_sell"
    UP_SELL = "up_sell"
    SERVICE_RECOVERY = "service_recovery"
    RELATIONSHIP_CARE = "relationship_care"  # a greeting or a courtesy call, no offer

    @property
    def is_marketing(self) -> bool:
        """Marketing needs consent, respects fatigue and waits while a complaint is open."""
        return self is not ActionKind.SERVICE_RECOVERY


class Action(RulePart):
    kind: ActionKind
    product: Annotated[str | None, Field(max_length=60)] = None
    owner: Literal["manager", "contact_center"] = "manager"
    channel: Literal["phone", "sms", "email", "branch", "mobile"] = "phone"
    due_in_hours: Annotated[int, Field(ge=1, le=24 * 90)] = 48
    expires_in_hours: Annotated[int, Field(ge=1, le=24 * 180)] = 24 * 14


class Trigger(RulePart):
    events: Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=10)] = []  # noqa: RUF012
    schedule: bool = False


class RuleDefinition(RulePart):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    trigger: Trigger
    conditions: Annotated[list[Condition], Field(max_length=12)] = []  # noqa: RUF012
    action: Action
    priority: Annotated[int, Field(ge=1, le=100)] = 50
    cooldown_days: Annotated[int, Field(ge=0, le=365)] = 30
    holdout_share: Annotated[
        Decimal,
        Field(ge=0, le=Decimal("0.5"), max_digits=5, decimal_places=4),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": 0.5},
                    {"type": "string", "pattern": r"^0(\.[0-9]{1,4})?$", "maxLength": 6},
                ],
                "description": "The share of matches held out as a control group, 0 to 0.5.",
            }
        ),
    ] = Decimal("0.1")


def rule_problems(rule: RuleDefinition) -> list[tuple[str, str]]:
    """Every reason the rule cannot be evaluated, as (field path, why)."""
    problems: list[tuple[str, str]] = []
    trigger = rule.trigger
    if trigger.schedule == bool(trigger.events):
        problems.append(("trigger", "give either events or schedule: true, not both"))
    unknown = [name for name in trigger.events if name not in TRIGGER_EVENTS]
    for name in unknown:
        problems.append(("trigger.events", f"{name!r} is not one of {sorted(TRIGGER_EVENTS)}"))
    models = [TRIGGER_EVENTS[name] for name in trigger.events if name in TRIGGER_EVENTS]
    for index, condition in enumerate(rule.conditions):
        where = f"conditions[{index}]"
        if isinstance(condition, EventField):
            problems += _event_field_problems(condition, models, where, trigger.schedule)
        elif isinstance(condition, RelativeToHistory | NewRecurringCredit):
            if trigger.events != ["transaction.posted"]:
                problems.append((f"{where}.kind", "needs trigger.events = ['transaction.posted']"))
        elif isinstance(condition, SCHEDULE_ONLY) and not trigger.schedule:
            problems.append((f"{where}.kind", f"{condition.kind} needs trigger.schedule"))
    if trigger.schedule and not any(isinstance(c, SCHEDULE_SELECTORS) for c in rule.conditions):
        problems.append(
            (
                "conditions",
                "a scheduled rule needs birthday_within, maturity_within or days_since_activity",
            )
        )
    action = rule.action
    if action.kind in (ActionKind.CROSS_SELL, ActionKind.UP_SELL) and not action.product:
        problems.append(("action.product", f"{action.kind} names the product to offer"))
    if action.expires_in_hours < action.due_in_hours:
        problems.append(("action.expires_in_hours", "must not be before due_in_hours"))
    return problems


def _event_field_problems(
    condition: EventField, models: list[type[DomainEvent]], where: str, scheduled: bool
) -> list[tuple[str, str]]:
    if scheduled:
        return [(f"{where}.kind", "a scheduled rule has no arriving event to read fields of")]
    problems = []
    for model in models:
        info = model.model_fields.get(condition.field)
        if info is None:
            problems.append(
                (
                    f"{where}.field",
                    f"{model.event_type} has no field {condition.field!r}; "
                    f"it has {sorted(model.model_fields)}",
                )
            )
            continue
        adapter: TypeAdapter[Any] = TypeAdapter(info.annotation or Any)
        values = condition.value if isinstance(condition.value, list) else [condition.value]
        if condition.op in (Comparison.IN, Comparison.NOT_IN) and not isinstance(
            condition.value, list
        ):
            problems.append((f"{where}.value", f"{condition.op} needs a list"))
            continue
        for value in values:
            try:
                typed = adapter.validate_python(value)
            except ValidationError:
                problems.append(
                    (
                        f"{where}.value",
                        f"{value!r} is not a {condition.field} of {model.event_type}",
                    )
                )
                continue
            if condition.op in ORDERING and not isinstance(typed, int | Decimal | float):
                problems.append((f"{where}.op", f"{condition.field} cannot be ordered"))
    return problems
