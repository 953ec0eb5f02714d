"""The decision log's queries. The evidence is learned by one upsert per response, in the
transaction that records the response, so a response is learned once or not at all."""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.next_best.repository import TOTAL


@dataclass(frozen=True)
class LoggedEntry:
    action_id: str
    rank: int
    opportunity_id: uuid.UUID | None
    propensity: Decimal
    ranked_propensity: Decimal
    expected_value: Decimal
    choice_probability: Decimal


_DECISION = text(
    "INSERT INTO action_decisions"
    " (id, customer_id, channel, served_at, explored, features, model_versions)"
    " VALUES (:id, :customer_id, :channel, :served_at, :explored,"
    " CAST(:features AS jsonb), CAST(:model_versions AS jsonb))"
)
_ENTRY = text(
    "INSERT INTO action_decision_entries (decision_id, action_id, rank, opportunity_id,"
    " propensity, ranked_propensity, expected_value, choice_probability)"
    " VALUES (:decision_id, :action_id, :rank, :opportunity_id, :propensity,"
    " :ranked_propensity, :expected_value, :choice_probability)"
)


_SUPERSEDE = text(
    "UPDATE action_decision_entries e SET outcome = 'superseded'"
    " FROM action_decisions d WHERE d.id = e.decision_id AND d.customer_id = :customer_id"
    " AND e.outcome IS NULL"
)


async def keep_decision(
    session: AsyncSession,
    *,
    decision_id: uuid.UUID,
    customer_id: uuid.UUID,
    channel: str | None,
    served_at: datetime,
    explored: bool,
    features: Mapping[str, str],
    model_versions: Mapping[str, int],
    entries: Sequence[LoggedEntry],
) -> None:
    """Keeps the decision, superseding the customer's earlier unanswered ones."""
    await session.execute(_SUPERSEDE, {"customer_id": customer_id})
    await session.execute(
        _DECISION,
        {
            "id": decision_id,
            "customer_id": customer_id,
            "channel": channel,
            "served_at": served_at,
            "explored": explored,
            "features": json.dumps(features),
            "model_versions": json.dumps(model_versions),
        },
    )
    if entries:
        await session.execute(_ENTRY, [{"decision_id": decision_id, **e.__dict__} for e in entries])


@dataclass(frozen=True)
class Answered:
    """An entry the response was recorded on, with what the decision knew of the customer."""

    decision_id: uuid.UUID
    action_id: str
    customer_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    outcome: str
    features: dict[str, str]


_ANSWER = text(
    "UPDATE action_decision_entries e SET outcome = :outcome, responded_at = :now"
    " FROM action_decisions d"
    " WHERE d.id = e.decision_id AND e.decision_id = :decision_id AND e.action_id = :action_id"
    " AND (e.outcome IS NULL OR e.outcome = 'superseded')"
    " RETURNING e.decision_id, e.action_id, d.customer_id, e.opportunity_id, e.outcome,"
    " d.features"
)


async def answer(
    session: AsyncSession, decision_id: uuid.UUID, action_id: str, outcome: str, now: datetime
) -> Answered | None:
    """Records the response on an unanswered entry; None when there is none to record on."""
    row = (
        await session.execute(
            _ANSWER,
            {"decision_id": decision_id, "action_id": action_id, "outcome": outcome, "now": now},
        )
    ).one_or_none()
    return None if row is None else Answered(**row._mapping)


@dataclass(frozen=True)
class Entry:
    outcome: str | None
    responded_at: datetime | None
    manager_id: str | None  # the customer's, as the detector knows them


_ANSWERED_ELSEWHERE = text(
    "UPDATE action_decision_entries e SET outcome = 'answered_elsewhere'"
    " FROM action_decisions d WHERE d.id = e.decision_id AND d.customer_id = :customer_id"
    " AND e.action_id = :action_id AND e.decision_id <> :decision_id"
    " AND (e.outcome IS NULL OR e.outcome = 'superseded')"
)


async def close_other_offers(session: AsyncSession, answered: Answered) -> None:
    """The customer's other rankings that offered the same action are the same offer: once
    it is answered they take no response of their own."""
    if answered.customer_id is not None:
        await session.execute(
            _ANSWERED_ELSEWHERE,
            {
                "customer_id": answered.customer_id,
                "action_id": answered.action_id,
                "decision_id": answered.decision_id,
            },
        )


_ENTRY_READ = text(
    "SELECT e.outcome, e.responded_at, p.manager_id FROM action_decision_entries e"
    " JOIN action_decisions d ON d.id = e.decision_id"
    " LEFT JOIN customer_profiles p ON p.customer_id = d.customer_id"
    " WHERE e.decision_id = :decision_id AND e.action_id = :action_id"
)


async def entry(session: AsyncSession, decision_id: uuid.UUID, action_id: str) -> Entry | None:
    """A logged entry, or None when the decision served no such action."""
    row = (
        await session.execute(_ENTRY_READ, {"decision_id": decision_id, "action_id": action_id})
    ).one_or_none()
    return None if row is None else Entry(**row._mapping)


_LATEST_FOR_OPPORTUNITY = text(
    "SELECT e.decision_id, e.action_id FROM action_decision_entries e"
    " JOIN action_decisions d ON d.id = e.decision_id"
    " WHERE e.opportunity_id = :opportunity_id AND e.outcome IS NULL"
    " ORDER BY d.served_at DESC LIMIT 1"
)


async def latest_unanswered_for_opportunity(
    session: AsyncSession, opportunity_id: uuid.UUID
) -> tuple[uuid.UUID, str] | None:
    row = (
        await session.execute(_LATEST_FOR_OPPORTUNITY, {"opportunity_id": opportunity_id})
    ).one_or_none()
    return None if row is None else (row.decision_id, row.action_id)


_LEARN = text(
    "INSERT INTO action_evidence (action_id, predictor, bin, positives, negatives)"
    " SELECT :action_id, f.key, f.value, :positive, 1 - :positive"
    " FROM jsonb_each_text(CAST(:features AS jsonb)) f"
    " UNION ALL SELECT :action_id, :total, :total, :positive, 1 - :positive"
    " ON CONFLICT (action_id, predictor, bin) DO UPDATE"
    " SET positives = action_evidence.positives + excluded.positives,"
    " negatives = action_evidence.negatives + excluded.negatives"
)


async def learn(
    session: AsyncSession, action_id: str, features: Mapping[str, str], *, positive: bool
) -> None:
    await session.execute(
        _LEARN,
        {
            "action_id": action_id,
            "features": json.dumps(features),
            "positive": int(positive),
            "total": TOTAL,
        },
    )


_DUE_TO_EXPIRE = text(
    "SELECT e.decision_id, e.action_id FROM action_decision_entries e"
    " JOIN action_decisions d ON d.id = e.decision_id"
    " WHERE e.rank = 1 AND e.outcome IS NULL AND d.served_at < :before"
    " ORDER BY d.served_at LIMIT :limit FOR UPDATE OF e SKIP LOCKED"
)


async def unanswered_offers(
    session: AsyncSession, before: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """The offers made (each decision's first entry) that nobody answered before ``before``."""
    rows = await session.execute(_DUE_TO_EXPIRE, {"before": before, "limit": limit})
    return [(r.decision_id, r.action_id) for r in rows]


_RESPONSES = text(
    "SELECT e.propensity, e.outcome = 'accepted' AS accepted FROM action_decision_entries e"
    " WHERE e.action_id = :action_id AND e.outcome IS NOT NULL AND e.responded_at >= :since"
    " ORDER BY e.responded_at DESC LIMIT :limit"
)


async def responses(
    session: AsyncSession, action_id: str, since: datetime, limit: int
) -> list[tuple[float, bool]]:
    """(propensity when offered, accepted) of the action's latest responses."""
    rows = await session.execute(
        _RESPONSES, {"action_id": action_id, "since": since, "limit": limit}
    )
    return [(float(r.propensity), bool(r.accepted)) for r in rows]


async def forget_customer(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """The erased customer's decisions stay for model health, without naming them."""
    await session.execute(
        text("UPDATE action_decisions SET customer_id = NULL WHERE customer_id = :id"),
        {"id": customer_id},
    )


@dataclass(frozen=True)
class LoggedRanking:
    """A decision whose first entry has its response: every entry as the decision ranked it."""

    decision_id: uuid.UUID
    entries: list[tuple[str, float, float]]  # (action, model estimate, first-choice probability)
    served: str
    accepted: bool


_ANSWERED_RANKINGS = text(
    "SELECT e.decision_id, e.action_id, e.rank, e.propensity, e.choice_probability, e.outcome"
    " FROM action_decision_entries e JOIN ("
    "  SELECT f.decision_id FROM action_decision_entries f"
    "  JOIN action_decisions d ON d.id = f.decision_id"
    "  WHERE f.rank = 1 AND d.served_at >= :since"
    "  AND f.outcome IN ('accepted', 'declined', 'no_answer', 'expired')"
    "  ORDER BY d.served_at DESC LIMIT :limit"
    " ) answered ON answered.decision_id = e.decision_id"
    " ORDER BY e.decision_id, e.rank"
)


async def answered_rankings(
    session: AsyncSession, since: datetime, limit: int
) -> list[LoggedRanking]:
    """The latest ``limit`` rankings since ``since`` whose first entry was answered."""
    rankings: dict[uuid.UUID, LoggedRanking] = {}
    for row in await session.execute(_ANSWERED_RANKINGS, {"since": since, "limit": limit}):
        ranking = rankings.get(row.decision_id)
        if ranking is None:
            ranking = LoggedRanking(row.decision_id, [], row.action_id, row.outcome == "accepted")
            rankings[row.decision_id] = ranking
        ranking.entries.append(
            (row.action_id, float(row.propensity), float(row.choice_probability))
        )
    return list(rankings.values())
