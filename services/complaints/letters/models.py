"""The letters sent on a case, as sent: append-only (a migration trigger refuses UPDATE and
DELETE), so the text the complainant received can always be shown again."""

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.complaints.models import Base


class ComplaintLetter(Base):
    __tablename__ = "complaint_letters"
    __table_args__ = (Index("ix_complaint_letters_case", "complaint_id", "issued_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(UUID)
    kind: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    jurisdiction: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(String(64))  # the actor of the step that sent it
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
