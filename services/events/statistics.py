"""``/v1/rules/{id}/stats``: what each version fired and decided, what came of the contacts,
and the uplift against the control group."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.repository import opportunities as opportunities_repository
from services.events.schemas import RuleStats, VersionStats


async def rule_stats(
    session: AsyncSession, rule_id: str, *, start: datetime, end: datetime
) -> RuleStats:
    versions: dict[tuple[int, str], dict[str, int]] = {}
    for version, mode, decision, count in await opportunities_repository.firing_counts(
        session, rule_id, start, end
    ):
        versions.setdefault((version, mode), {})[decision] = count
    by_status: dict[str, int] = {}
    treated = treated_converted = control = control_converted = 0
    for control_group, status, count, converted in await opportunities_repository.outcome_counts(
        session, rule_id, start, end
    ):
        by_status[status] = by_status.get(status, 0) + count
        if control_group:
            control, control_converted = control + count, control_converted + converted
        else:
            treated, treated_converted = treated + count, treated_converted + converted
    treated_rate = treated_converted / treated if treated else None
    control_rate = control_converted / control if control else None
    return RuleStats(
        rule_id=rule_id,
        period_from=start,
        period_to=end,
        versions=[
            VersionStats(version=v, mode=m, fired=sum(d.values()), decisions=d)
            for (v, m), d in sorted(versions.items())
        ],
        contacted=treated,
        in_contact=by_status.get("in_contact", 0),
        accepted=by_status.get("accepted", 0),
        declined=by_status.get("declined", 0),
        expired=by_status.get("expired", 0),
        held_out=control,
        treated_conversion_rate=_round(treated_rate),
        control_conversion_rate=_round(control_rate),
        uplift=_round(treated_rate - control_rate)
        if treated_rate is not None and control_rate is not None
        else None,
    )


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
