"""A case's episodes, read from its history: from receipt (or a reopening) to its closing.

The FCA's return counts a reopened complaint as a new one, opened when it was reopened; the
NFRA's counts a complaint once, in the quarter it was received, and its handling time by each
decision. Both read the same episodes. The classification and the redress are those of the
last resolution proposal before the episode closed (a reopened case keeps its classification
until a new proposal changes it; its redress is paid again only if proposed again)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.complaints.procedure import ClosingOutcome, ComplaintAction, ComplaintStep

_CLOSING_OUTCOME = {
    ComplaintAction.EVALUATE: ClosingOutcome.RESOLVED,
    ComplaintAction.JUDGE_VALIDITY: ClosingOutcome.INVALID,
    ComplaintAction.WITHDRAW: ClosingOutcome.WITHDRAWN,
}


@dataclass(frozen=True)
class HistoryRow:
    """One history entry of a case, with what the returns need of the case itself."""

    complaint_id: uuid.UUID
    channel: str
    received_at: datetime
    department: str | None
    action: str
    to_step: str | None
    decision: dict[str, Any]
    at: datetime


@dataclass
class Episode:
    complaint_id: uuid.UUID
    channel: str
    received_at: datetime  # the case's receipt, whichever episode this is
    opened_at: datetime
    reopened: bool
    classification: dict[str, Any] | None = None
    redress: Decimal = Decimal(0)
    extensions: int = 0
    decided_at: datetime | None = None
    decided_on_time: bool | None = None
    closed_at: datetime | None = None
    outcome: ClosingOutcome | None = None
    codes: dict[str, str] = field(default_factory=dict)

    @property
    def upheld(self) -> bool:
        # A complaint judged invalid or withdrawn found nothing for the complainant.
        resolved = self.outcome is ClosingOutcome.RESOLVED
        return resolved and bool((self.classification or {}).get("upheld"))

    @property
    def redress_paid(self) -> Decimal:
        """The proposal's compensation, once the case closed resolved (it was implemented)."""
        return self.redress if self.outcome is ClosingOutcome.RESOLVED else Decimal(0)

    @property
    def classified(self) -> bool:
        return self.classification is not None

    def flag(self, name: str) -> bool:
        return bool((self.classification or {}).get(name))

    def open_at(self, moment: datetime) -> bool:
        return self.opened_at < moment and (self.closed_at is None or self.closed_at >= moment)


def episodes_of(rows: Iterable[HistoryRow]) -> list[Episode]:
    """Every case's episodes, from its history in order."""
    episodes: list[Episode] = []
    current: dict[uuid.UUID, Episode] = {}
    for row in rows:
        episode = current.get(row.complaint_id)
        if row.action in ("record", ComplaintAction.REOPEN):
            episode = Episode(
                complaint_id=row.complaint_id,
                channel=row.channel,
                received_at=row.received_at,
                opened_at=row.at,
                reopened=row.action == ComplaintAction.REOPEN,
                classification=episode.classification if episode else None,
                codes=episode.codes if episode else {},
            )
            current[row.complaint_id] = episode
            episodes.append(episode)
            continue
        if episode is None:
            continue  # a case whose receipt lies outside what was read
        _apply(episode, row)
    return episodes


def _apply(episode: Episode, row: HistoryRow) -> None:
    decision = row.decision
    if row.action == ComplaintAction.PROPOSE_RESOLUTION:
        episode.classification = decision.get("classification")
        episode.codes = dict((episode.classification or {}).get("codes", {}))
        compensation = decision.get("compensation")
        episode.redress = Decimal(compensation["amount"]) if compensation else Decimal(0)
    elif row.action == ComplaintAction.APPROVE_RESOLUTION:
        episode.decided_at, episode.decided_on_time = row.at, bool(decision.get("on_time"))
    elif row.action == ComplaintAction.EXTEND_DEADLINE:
        episode.extensions += 1
    if row.to_step == ComplaintStep.CLOSED and row.action in _CLOSING_OUTCOME:
        episode.closed_at = row.at
        episode.outcome = _CLOSING_OUTCOME[ComplaintAction(row.action)]
