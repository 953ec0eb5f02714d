"""The worklist's order and its cursor, without a database."""

from datetime import UTC, date, datetime

import pytest

from services.customer.reviews.schedule import ReviewStatus
from services.customer.worklist.priority import (
    WorkKey,
    customer_weight,
    decode_after,
    encode_after,
    lead_weight,
    opportunity_weight,
)
from shared.pagination import InvalidCursor, encode_keys

DAY = date(2026, 12, 1)


class TestWeights:
    def test_an_opportunity_never_outweighs_a_customer_of_a_higher_tier(self) -> None:
        assert opportunity_weight("key", 500) < customer_weight("premium")
        assert opportunity_weight("key", 80) == 380
        assert opportunity_weight("ordinary", -5) == customer_weight("ordinary")

    def test_a_lead_weighs_as_the_tier_its_grade_promises(self) -> None:
        assert [lead_weight(g) for g in "ABC"] == [300, 200, 100]


class TestOrder:
    def test_overdue_first_longest_overdue_leading_then_weight_on_a_day(self) -> None:
        keys = [
            WorkKey.of(ReviewStatus.DUE, DAY, 400, "review", "d"),
            WorkKey.of(ReviewStatus.OVERDUE, date(2026, 11, 30), 100, "review", "c"),
            WorkKey.of(ReviewStatus.OVERDUE, date(2026, 11, 20), 100, "visit", "b"),
            WorkKey.of(ReviewStatus.SCHEDULED, date(2026, 11, 1), 400, "opportunity", "f"),
            WorkKey.of(ReviewStatus.OVERDUE, date(2026, 11, 30), 300, "opportunity", "a"),
        ]

        assert [k.item_id for k in sorted(keys)] == ["b", "a", "c", "d", "f"]


class TestCursor:
    def test_a_cursor_gives_back_the_key_it_was_made_from(self) -> None:
        key = WorkKey.of(ReviewStatus.OVERDUE, DAY, 180, "opportunity", "7f1c")

        assert decode_after(encode_after(key)) == key

    @pytest.mark.parametrize(
        "cursor",
        ["not-a-cursor", encode_keys(datetime(2026, 12, 1, tzinfo=UTC), "x", "1", "k", "i")],
    )
    def test_a_cursor_it_did_not_give_is_refused_naming_the_parameter(self, cursor: str) -> None:
        with pytest.raises(InvalidCursor) as refused:
            decode_after(cursor)

        assert refused.value.extensions["field"] == "cursor"
