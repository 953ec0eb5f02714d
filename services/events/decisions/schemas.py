"""The decision log's HTTP models."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from services.events.next_best.catalogue import catalogue
from shared.requests import RequestModel, decimal_schema


class ResponseCreate(RequestModel):
    action_id: str = Field(min_length=1, max_length=60, description="The action offered.")
    outcome: Literal["accepted", "declined", "no_answer"]


class ResponseRead(BaseModel):
    decision_id: uuid.UUID
    action_id: str
    outcome: str
    responded_at: datetime
    learned: bool = Field(description="False when the response had been recorded already.")


class DecileRead(BaseModel):
    decile: int = Field(ge=1, le=10, description="1 holds the lowest propensities.")
    responses: int
    accepted: int
    acceptance: float
    mean_propensity: float


class ActionPerformance(BaseModel):
    """How the action's model foretells its responses (docs/next-best-action.md)."""

    action_id: str
    since: datetime
    responses: int
    accepted: int
    acceptance: float | None
    mean_propensity: float | None = Field(description="Foretold acceptance, on average.")
    auc: float | None = Field(description="0.5 ranks like chance, 1 perfectly; None: no mix.")
    calibration_error: float | None = Field(
        description="The gap between foretold and seen acceptance by decile, weighed."
    )
    deciles: list[DecileRead]
    model_responses: int = Field(description="The responses the model has learned from.")
    active_predictors: list[str]
    predictor_auc: dict[str, float] = Field(description="Each predictor's AUC alone.")


class StrategyCandidate(RequestModel):
    """The learned ranking without exploration, with business weights of its own."""

    weights: Annotated[
        dict[
            # The document names the shipped catalogue's actions; the service checks the names
            # against the catalogue it runs with (CRM_EVENTS_ACTION_CATALOGUE).
            Annotated[
                str,
                Field(min_length=1, max_length=60),
                WithJsonSchema({"type": "string", "enum": sorted(catalogue().actions)}),
            ],
            Annotated[
                Decimal,
                Field(gt=0, lt=100),
                decimal_schema(
                    digits=2,
                    places=2,
                    positive=True,
                    description="The action's business weight, above 0 and below 100.",
                    example="1.5",
                ),
            ],
        ],
        Field(max_length=100),
    ] = Field(default_factory=dict, description="By action id; 1 when not named.")
    days: int = Field(default=90, ge=1, le=730, description="The decisions of these days.")
    limit: int = Field(default=50_000, ge=10, le=200_000)
    resamples: int = Field(default=1000, ge=100, le=10_000)


class StrategyEstimate(BaseModel):
    estimator: Literal["IPS", "SNIPS", "DR"]
    value: float = Field(description="The candidate's estimated acceptance rate.")
    low: float = Field(description="The 95% bootstrap interval's lower end.")
    high: float
    effective_sample_size: float = Field(
        description="What the weighted log is worth in decisions (Kish); few: do not trust it."
    )


class StrategyEvaluation(BaseModel):
    decisions: int = Field(description="Logged rankings whose first entry was answered.")
    logged_rate: float | None = Field(description="Their acceptance, as served.")
    agreement: float | None = Field(
        description="The share of them in which the candidate would have served the same."
    )
    estimates: list[StrategyEstimate]
