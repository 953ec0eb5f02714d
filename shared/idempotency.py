"""``Idempotency-Key``: a channel that retries a POST gets the first answer again.

The key is claimed in the request's own transaction before the work is done, and the answer
is stored in that same transaction: a retry that arrives while the first is still running waits
on the claim's row lock, then replays the committed answer; if the first rolled back, so did
its claim, and the retry does the work. The same key with a different body is refused (422):
that is a client bug, not a retry. (The IETF draft "The Idempotency-Key HTTP Header Field"
describes the header; the storage is ours because it must share the service's transaction.)
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, StringConstraints
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import DateTime, Integer, LargeBinary, String, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import SharedTablesBase
from shared.problems import ProblemError

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_\-:.]+$"
# A header is sent or not: "null" is no value a client can send, so the document shows the
# string alone. Surrounding white space is taken off before the pattern is applied, as in
# every body field (and as a client that matches patterns in Python, where "$" admits a final
# newline, expects).
IdempotencyKey = Annotated[
    str | SkipJsonSchema[None],
    StringConstraints(
        strip_whitespace=True, min_length=8, max_length=100, pattern=IDEMPOTENCY_KEY_PATTERN
    ),
    Header(
        alias="Idempotency-Key",
        description="Send the same key when retrying; the first answer comes back.",
        # StringConstraints with strip_whitespace leave the pattern out of the schema.
        json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
    ),
]


class IdempotencyRecord(SharedTablesBase):
    """The first answer to a POST sent with an ``Idempotency-Key`` (see :func:`answer_once`)."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[object | None] = mapped_column(JSONB)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyKeyReused(ProblemError):
    status, slug, title = 422, "idempotency-key-reused", "Idempotency key used for another request"


def _fingerprint(scope: str, body: BaseModel | None) -> bytes:
    payload = json.dumps([scope, body.model_dump(mode="json") if body else None], sort_keys=True)
    return hashlib.sha256(payload.encode()).digest()


async def answer_once(
    session: AsyncSession,
    *,
    key: str | None,
    scope: str,
    request_body: BaseModel | None,
    status_code: int,
    produce: Callable[[], Awaitable[tuple[BaseModel, dict[str, str]]]],
    status_of: Callable[[BaseModel], int] | None = None,
) -> Response:
    """Run ``produce`` (which returns the answer and its headers) once per key and scope.

    ``status_of`` picks the status from the answer when it depends on what happened (a
    submission linked to an existing case is 200, not 201)."""
    if key is None:
        answer, headers = await produce()
        status_code = status_of(answer) if status_of else status_code
        return JSONResponse(answer.model_dump(mode="json"), status_code, headers=headers)
    fingerprint = _fingerprint(scope, request_body)
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(key=key, scope=scope, fingerprint=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    )
    if claimed is None:
        stored = (
            await session.scalars(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.key == key, IdempotencyRecord.scope == scope
                )
            )
        ).one()
        if stored.fingerprint != fingerprint or stored.status_code is None:
            raise IdempotencyKeyReused(
                "Idempotency-Key: this key was used with a different request",
                field="Idempotency-Key",
            )
        replay_headers = {**(stored.headers or {}), "Idempotent-Replayed": "true"}
        return JSONResponse(stored.body, stored.status_code, headers=replay_headers)
    answer, headers = await produce()
    status_code = status_of(answer) if status_of else status_code
    body = answer.model_dump(mode="json")
    record = await session.get(IdempotencyRecord, (key, scope))
    assert record is not None, "claimed above in this transaction"
    record.status_code, record.body, record.headers = status_code, body, headers
    return JSONResponse(body, status_code, headers=headers)
