"""The figures at ``/v1/complaints/stats``: what complaints are about, how long each step
takes, whether decisions come in time, and what the customers did afterwards."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.repository import stats as stats_repository
from services.complaints.repository.stats import StatsScope
from services.complaints.schemas import Breakdown, ComplaintStats, StepDuration

SECONDS_PER_HOUR = 3600


async def complaint_stats(
    session: AsyncSession, *, scope: StatsScope, now: datetime
) -> ComplaintStats:
    volumes = {
        column: [
            Breakdown(key=str(key), count=count)
            for key, count in await stats_repository.volume_by(session, column, scope)
        ]
        for column in ("category", "cause", "channel", "department")
    }
    durations = await stats_repository.average_time_per_step(session, scope)
    figures = await stats_repository.outcome_figures(session, scope, now=now)
    judged = figures.decided + figures.late_undecided
    return ComplaintStats(
        received_from=scope.start,
        received_to=scope.end,
        received=figures.received,
        by_category=volumes["category"],
        by_cause=volumes["cause"],
        by_channel=volumes["channel"],
        by_department=volumes["department"],
        average_time_per_step=[
            StepDuration(step=step, average_hours=round(seconds / SECONDS_PER_HOUR, 3), samples=n)
            for step, seconds, n in durations
        ],
        decided=figures.decided,
        decided_on_time=figures.decided_on_time,
        on_time_rate=round(figures.decided_on_time / judged, 4) if judged else None,
        repeat_complaints=figures.repeats,
        satisfaction_responses=figures.satisfaction_responses,
        average_satisfaction=(
            round(figures.average_satisfaction, 2)
            if figures.average_satisfaction is not None
            else None
        ),
        customers_complaining=figures.customers,
        customers_left_after_complaint=await stats_repository.customers_left_after_complaint(
            session, scope
        ),
    )
