"""The letters' HTTP models."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from services.complaints.letters.wording import LetterKind, LetterLanguage
from shared.requests import RequestModel


class LetterRequest(RequestModel):
    kind: LetterKind


class LetterRead(BaseModel):
    id: uuid.UUID
    complaint_id: uuid.UUID
    kind: LetterKind
    language: LetterLanguage
    jurisdiction: str
    subject: str
    body: str  # the text as sent; ``…/letters/{letter_id}/pdf`` draws the same as PDF
    issued_by: str
    issued_at: datetime


class LetterList(BaseModel):
    items: list[LetterRead]
