"""A manager's worklist (客户经理工作清单): the reviews their customers' tier policies have
brought due, the opportunities the detector left for them, and the visits to their potential
customers planned for the coming days, in one list ordered as ``priority`` says.

- A review is listed once due (within the notice days of its date) or overdue, as the
  customer's review schedule shows it.
- An opportunity is listed while open, however far off its due moment: it is assigned work.
- A visit is listed from the notice days before it until its outcome is recorded.

Who may read a manager's list follows the customers' limits: a manager reads their own, branch
staff those of their branch's managers, and each item is one the caller reaches (a customer
moved to another branch's manager drops from what branch staff see). A manager out of reach
answers as one that does not exist."""

import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.access import Reach
from services.customer.config import Settings
from services.customer.customers.repository import Custody
from services.customer.errors import ManagerNotFound
from services.customer.managers import repository as managers_repository
from services.customer.models import Manager
from services.customer.reviews.schedule import (
    ReviewStatus,
    anchor_of,
    counted_from,
    next_review_on,
    review_status,
)
from services.customer.worklist import priority
from services.customer.worklist import repository as worklist_repository
from services.customer.worklist.priority import WorkKey
from services.customer.worklist.schemas import WorkKind, WorklistEntry, WorklistPage


def _manager_in_reach(reach: Reach | None, manager: Manager) -> bool:
    if reach is None:
        return True
    if reach.nobody:
        return False
    if reach.manager_id is not None and reach.manager_id != manager.id:
        return False
    return reach.branch_code is None or reach.branch_code == manager.branch_code


class _Day:
    """Today in the bank's dates, and what a due date means against it."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.zone = settings.bank_zone
        self.today = now.astimezone(self.zone).date()
        self.notice_days = settings.review_notice_days

    def of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def status(self, due_on: date) -> ReviewStatus:
        return review_status(due_on, today=self.today, notice_days=self.notice_days)

    def overdue_days(self, due_on: date) -> int:
        return max((self.today - due_on).days, 0)

    def horizon(self) -> datetime:
        """The end of the last day the notice reaches, as a moment."""
        last = self.today + timedelta(days=self.notice_days + 1)
        return datetime.combine(last, time.min, tzinfo=self.zone)


async def _reviews(
    session: AsyncSession, manager_id: uuid.UUID, day: _Day, settings: Settings
) -> list[tuple[WorklistEntry, Custody]]:
    items = []
    for row in await worklist_repository.review_anchors(session, manager_id):
        anchor = anchor_of(
            row.tier_since,
            reviewed_at=row.reviewed_at,
            agreed_next_on=row.next_review_on,
            zone=day.zone,
        )
        every = settings.tier_policies[row.value_tier].review_every_days
        due_on = next_review_on(anchor, every_days=every)
        status = day.status(due_on)
        if status is ReviewStatus.SCHEDULED:
            continue
        since = counted_from(anchor)
        counted = "latest review" if since == row.reviewed_at else "tier change"
        entry = WorklistEntry(
            kind=WorkKind.REVIEW,
            id=str(row.id),
            customer_id=row.id,
            lead_id=None,
            name=row.name,
            value_tier=row.value_tier,
            lead_grade=None,
            reason=f"{row.value_tier} customer: a review every {every} days, counted from the "
            f"{counted} on {day.of(since)}",
            since=since,
            due_on=due_on,
            due_at=None,
            status=status,
            overdue_days=day.overdue_days(due_on),
            weight=priority.customer_weight(row.value_tier),
        )
        items.append((entry, Custody(row.manager_id, row.branch_code)))
    return items


async def _opportunities(
    session: AsyncSession, manager_id: uuid.UUID, day: _Day
) -> list[tuple[WorklistEntry, Custody]]:
    items = []
    for row in await worklist_repository.owned_opportunities(session, manager_id):
        due_on = day.of(row.due_at)
        offered = f" of {row.product}" if row.product else ""
        entry = WorklistEntry(
            kind=WorkKind.OPPORTUNITY,
            id=str(row.opportunity_id),
            customer_id=row.customer_id,
            lead_id=None,
            name=row.name,
            value_tier=row.value_tier,
            lead_grade=None,
            reason=f"{row.action}{offered}: opportunity of priority {row.priority}, "
            f"{row.status.replace('_', ' ')}",
            since=row.opened_at,
            due_on=due_on,
            due_at=row.due_at,
            status=day.status(due_on),
            overdue_days=day.overdue_days(due_on),
            weight=priority.opportunity_weight(row.value_tier, row.priority),
        )
        items.append((entry, Custody(row.manager_id, row.branch_code)))
    return items


async def _visits(
    session: AsyncSession, manager_id: uuid.UUID, day: _Day
) -> list[tuple[WorklistEntry, Custody]]:
    items = []
    rows = await worklist_repository.planned_visits(
        session, manager_id, planned_before=day.horizon()
    )
    for row in rows:
        due_on = day.of(row.planned_at)
        entry = WorklistEntry(
            kind=WorkKind.VISIT,
            id=str(row.id),
            customer_id=None,
            lead_id=row.lead_id,
            name=row.name,
            value_tier=None,
            lead_grade=row.grade,
            reason=f"visit to a grade {row.grade} potential customer planned for {due_on}, "
            f"outcome not recorded: {row.purpose}",
            since=row.created_at,
            due_on=due_on,
            due_at=row.planned_at,
            status=day.status(due_on),
            overdue_days=day.overdue_days(due_on),
            weight=priority.lead_weight(row.grade),
        )
        items.append((entry, Custody(row.manager_id, row.branch_code)))
    return items


def _key(entry: WorklistEntry) -> WorkKey:
    return WorkKey.of(entry.status, entry.due_on, entry.weight, entry.kind.value, entry.id)


async def worklist(
    session: AsyncSession,
    manager_id: uuid.UUID,
    *,
    reach: Reach | None,
    settings: Settings,
    now: datetime,
    after: WorkKey | None = None,
    limit: int,
) -> WorklistPage:
    """One page of the manager's worklist after ``after``, in priority order."""
    manager = await managers_repository.get_manager(session, manager_id)
    if manager is None or not _manager_in_reach(reach, manager):
        raise ManagerNotFound(f"no manager {manager_id}")
    day = _Day(settings, now)
    items = [
        *await _reviews(session, manager_id, day, settings),
        *await _opportunities(session, manager_id, day),
        *await _visits(session, manager_id, day),
    ]
    entries = sorted(
        (entry for entry, custody in items if reach is None or reach.admits(custody)), key=_key
    )
    counts = Counter(entry.status for entry in entries)
    following = [entry for entry in entries if after is None or _key(entry) > after]
    page = following[:limit]
    more = len(following) > limit
    return WorklistPage(
        manager_id=manager_id,
        overdue=counts[ReviewStatus.OVERDUE],
        due=counts[ReviewStatus.DUE],
        entries=page,
        next_cursor=priority.encode_after(_key(page[-1])) if more and page else None,
    )
