"""The order of a manager's worklist, and the cursor that continues it: pure.

Overdue work comes first, then work falling due, then work scheduled further off. Within each,
the earliest date first, so the longest overdue leads. On one date the weightier item first:

- a customer weighs 100 per rank of their value tier (premium 400, key 300, potential 200,
  ordinary 100, restricted 0);
- an opportunity adds its own priority from the detector (at most 99), so it never outweighs
  a customer of a higher tier;
- a potential customer (lead) weighs as the tier its grade promises: A as key (300), B as
  potential (200), C as ordinary (100).

Equal weights fall back to the kind and the item's id, so the order is total and a page
boundary neither skips nor repeats an item."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from services.customer.reviews.schedule import ReviewStatus
from services.customer.valuation.segmentation import TIER_RANK, ValueTier
from shared.pagination import InvalidCursor, decode_keys, encode_keys

STATUS_ORDER = {ReviewStatus.OVERDUE: 0, ReviewStatus.DUE: 1, ReviewStatus.SCHEDULED: 2}
TIER_WEIGHT = 100
MAX_OPPORTUNITY_PRIORITY = 99
GRADE_TIER = {"A": ValueTier.KEY, "B": ValueTier.POTENTIAL, "C": ValueTier.ORDINARY}


def customer_weight(value_tier: str) -> int:
    return TIER_RANK[ValueTier(value_tier)] * TIER_WEIGHT


def opportunity_weight(value_tier: str, priority: int) -> int:
    return customer_weight(value_tier) + min(max(priority, 0), MAX_OPPORTUNITY_PRIORITY)


def lead_weight(grade: str) -> int:
    return customer_weight(GRADE_TIER.get(grade, ValueTier.ORDINARY))


@dataclass(frozen=True, order=True)
class WorkKey:
    """Where an item stands in the list; items compare in list order."""

    status_rank: int
    due_on: date
    negative_weight: int
    kind: str
    item_id: str

    @classmethod
    def of(
        cls, status: ReviewStatus, due_on: date, weight: int, kind: str, item_id: str
    ) -> "WorkKey":
        return cls(STATUS_ORDER[status], due_on, -weight, kind, item_id)


def encode_after(key: WorkKey) -> str:
    due = datetime.combine(key.due_on, time.min, tzinfo=UTC)
    return encode_keys(due, str(key.status_rank), str(key.negative_weight), key.kind, key.item_id)


def decode_after(cursor: str) -> WorkKey:
    due, (rank, negative_weight, kind, item_id) = decode_keys(cursor, 4)
    try:
        return WorkKey(int(rank), due.date(), int(negative_weight), kind, item_id)
    except ValueError as error:
        raise InvalidCursor("cursor", "not a cursor this service gave", where="query") from error
