"""Keyset cursors for list endpoints: the last row's (time, id), or its position in a fixed
list, opaque to the caller.

A keyset (not an offset) keeps a page stable while rows are added ahead of it, and costs one
index range scan whatever the page number."""

import base64
import binascii
import json
import uuid
from datetime import datetime

from shared.problems import InvalidField


class InvalidCursor(InvalidField):
    slug, title = "invalid-cursor", "Invalid cursor"


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = json.loads(raw)
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, binascii.Error, TypeError) as error:
        raise InvalidCursor("cursor", "not a cursor this service gave", where="query") from error


def encode_keys(at: datetime, *keys: str) -> str:
    """A cursor after a row ordered by its time and then by text keys (a merged list whose
    rows come from several tables and are told apart by a kind and their own id)."""
    raw = json.dumps([at.isoformat(), *keys]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keys(cursor: str, count: int) -> tuple[datetime, tuple[str, ...]]:
    """The time and the ``count`` text keys of a cursor :func:`encode_keys` gave."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, *keys = json.loads(raw)
        moment = datetime.fromisoformat(at)
    except (ValueError, binascii.Error, TypeError) as error:
        raise InvalidCursor("cursor", "not a cursor this service gave", where="query") from error
    if moment.tzinfo is None or len(keys) != count or not all(isinstance(k, str) for k in keys):
        raise InvalidCursor("cursor", "not a cursor this service gave", where="query")
    return moment, tuple(keys)


def encode_position(position: int) -> str:
    """A cursor after the ``position``-th row of a numbered list that no longer changes (a
    report's lines), opaque like the others."""
    return base64.urlsafe_b64encode(json.dumps([position]).encode()).decode().rstrip("=")


def decode_position(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        (position,) = json.loads(raw)
    except (ValueError, binascii.Error, TypeError) as error:
        raise InvalidCursor("cursor", "not a cursor this service gave", where="query") from error
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InvalidCursor("cursor", "not a cursor this service gave", where="query")
    return position
