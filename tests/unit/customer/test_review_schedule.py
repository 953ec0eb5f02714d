"""When the next review falls due: counted from the latest review or tier change."""

from datetime import UTC, date, datetime

import pytest

from services.customer.reviews.schedule import (
    ReviewAnchor,
    ReviewStatus,
    next_review_on,
    review_status,
)

UPGRADED = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


class TestNextReview:
    def test_without_a_review_the_count_starts_at_the_tier_change(self) -> None:
        anchor = ReviewAnchor(tier_since=UPGRADED, tier_since_on=date(2026, 3, 1))
        assert next_review_on(anchor, every_days=30) == date(2026, 3, 31)

    def test_a_review_after_the_tier_change_starts_the_count_again(self) -> None:
        anchor = ReviewAnchor(
            tier_since=UPGRADED,
            tier_since_on=date(2026, 3, 1),
            reviewed_at=datetime(2026, 3, 20, 6, 0, tzinfo=UTC),
            reviewed_on=date(2026, 3, 20),
        )
        assert next_review_on(anchor, every_days=30) == date(2026, 4, 19)

    def test_the_date_a_review_agreed_comes_first(self) -> None:
        anchor = ReviewAnchor(
            tier_since=UPGRADED,
            tier_since_on=date(2026, 3, 1),
            reviewed_at=datetime(2026, 3, 20, 6, 0, tzinfo=UTC),
            reviewed_on=date(2026, 3, 20),
            agreed_next_on=date(2026, 4, 2),
        )
        assert next_review_on(anchor, every_days=30) == date(2026, 4, 2)

    def test_a_tier_change_after_the_last_review_reschedules_to_the_new_cadence(self) -> None:
        anchor = ReviewAnchor(
            tier_since=UPGRADED,
            tier_since_on=date(2026, 3, 1),
            reviewed_at=datetime(2026, 2, 20, 6, 0, tzinfo=UTC),
            reviewed_on=date(2026, 2, 20),
            agreed_next_on=date(2027, 2, 20),
        )
        assert next_review_on(anchor, every_days=30) == date(2026, 3, 31)


class TestStatus:
    @pytest.mark.parametrize(
        ("today", "status"),
        [
            (date(2026, 3, 23), ReviewStatus.SCHEDULED),
            (date(2026, 3, 24), ReviewStatus.DUE),
            (date(2026, 3, 31), ReviewStatus.DUE),
            (date(2026, 4, 1), ReviewStatus.OVERDUE),
        ],
    )
    def test_due_within_the_notice_days_and_overdue_after_the_date(
        self, today: date, status: ReviewStatus
    ) -> None:
        assert review_status(date(2026, 3, 31), today=today, notice_days=7) is status
