"""The decision log's HTTP models."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.requests import RequestModel


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
