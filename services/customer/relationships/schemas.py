"""HTTP models of the ties between customers."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel

from shared.requests import RequestModel


class RelationshipCreate(RequestModel):
    related_customer_id: uuid.UUID
    kind: Literal["household", "parent_company", "subsidiary", "related_party", "referred_by"]
    since: date


class RelationshipRead(BaseModel):
    """``kind`` as seen from this customer (the other side sees the inverse)."""

    related_customer_id: uuid.UUID
    kind: str
    since: date
