"""Settings of the events service: ``CRM_EVENTS_*`` first, then ``CRM_*``.

The suppression limits, the priority each tier adds and the clocks are configuration; the
rules themselves are data, managed through ``/v1/rules``."""

from decimal import Decimal
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field

from shared.settings import SharedSettings


class Settings(SharedSettings):
    service_name: ClassVar[str] = "events"
    default_port: ClassVar[int] = 8002

    # Records per consumer poll: a partition's run is handled in one transaction, so larger
    # runs raise throughput under a backlog (bench/detector.py on 2 cores: 200 → 3.6k events/s,
    # 500 → 5.0k/s); at a steady 1,000/s the runs are small whatever the cap (p50 ~52 ms).
    consumer_batch_size: int = Field(default=500, ge=1)

    # Customers' states a consumer keeps in memory between runs (0: none), checked against the
    # stored version before each reuse. A state holds up to a year of day rows: about 29 KiB
    # for a customer active on 41 days of the year, 251 KiB for one active every day
    # (tracemalloc), so the default takes about 150 MiB, 1.2 GiB at the very worst.
    state_cache_customers: int = Field(default=5_000, ge=0)

    # The bank's business day (for windows, birthdays and maturities).
    timezone: str = "Asia/Shanghai"
    # Contact fatigue across rules: at most this many marketing contacts per customer within
    # the window (service recovery is never held back by it).
    fatigue_cap: int = Field(default=2, ge=1)
    fatigue_window_days: int = Field(default=7, ge=1)
    # The bank's business weight of each action of the catalogue (actions.yaml) in the next
    # best action's ranking, by action id; 1 when not named. A campaign raises its product's.
    action_weights: dict[str, Annotated[Decimal, Field(ge=0, le=100)]] = Field(default_factory=dict)
    # The next best action's learning (docs/next-best-action.md): the share of decisions that
    # explore (rank by a draw from each model's posterior), how many responses the
    # catalogue's prior propensity is worth, the draws that estimate how likely each action
    # was to be put first, and how long an offer waits for its response before it is learned
    # as refused.
    # The bank's action catalogue (services/events/actions.yaml when unset).
    action_catalogue: Path | None = None
    nba_exploration: float = Field(default=0.1, ge=0, le=1)
    nba_prior_strength: float = Field(default=20.0, gt=0)
    nba_choice_samples: int = Field(default=200, ge=10, le=10_000)
    nba_response_window_days: int = Field(default=14, ge=1)
    # Added to a rule's priority by the customer's value tier, then clamped to 1-100.
    priority_by_tier: dict[str, int] = Field(
        default_factory=lambda: {"premium": 30, "key": 20, "potential": 10, "restricted": -20}
    )
    # An opportunity counts as converted when the customer opens an account this soon after.
    conversion_days: int = Field(default=30, ge=1)
    schedule_interval_seconds: float = Field(default=300.0, gt=0)
    expiry_interval_seconds: float = Field(default=60.0, gt=0)
    # Rules are cached per process and reread this often (other replicas' changes).
    rule_cache_seconds: float = Field(default=5.0, ge=0)
    # Consumed events kept for lineage and backtests.
    history_days: int = Field(default=400, ge=30)
    backtest_max_events: int = Field(default=2_000_000, ge=1)
