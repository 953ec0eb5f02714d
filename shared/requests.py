"""The one base of every model a client sends to a service.

Unknown fields are refused (a misspelt field is a 422 naming it, not silently dropped) and
surrounding white space is taken off strings, as channels often pad what their users typed.
"""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

# The largest value of PostgreSQL's integer: a version or a count no column could hold is a
# 422, not a database error.
INT_MAX = 2**31 - 1
# A record's version as the client read it (optimistic concurrency), or a rule's version.
Version = Annotated[int, Field(ge=1, le=INT_MAX)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def decimal_schema(
    *, digits: int, places: int, positive: bool = False, description: str, example: str
) -> WithJsonSchema:
    """The document's schema of a decimal sent as a JSON number or, to keep every digit through
    any client, as a string: at most ``digits`` digits before the point and ``places`` after,
    above zero when ``positive``. Written out because pydantic renders a Decimal's bounds as
    floats and leaves its string form unbounded; the field's own ``Field`` constraints enforce
    the same bounds."""
    bound = 10**digits
    # multipleOf: a number with more places than the field keeps is refused, so say so.
    number: dict[str, Any] = {
        "type": "number",
        "exclusiveMaximum": bound,
        "multipleOf": float(Decimal(1).scaleb(-places)),
    }
    number["exclusiveMinimum"] = 0 if positive else -bound
    sign = "" if positive else "-?"
    pattern = rf"^{sign}[0-9]{{1,{digits}}}(\.[0-9]{{1,{places}}})?$"
    text: dict[str, Any] = {"type": "string", "pattern": pattern, "maxLength": digits + places + 2}
    if positive:
        # Zero written any way ("0", "00.00") fits the digits' pattern but not the bound.
        text["not"] = {"pattern": r"^0*(\.0*)?$"}
    return WithJsonSchema(
        {"anyOf": [number, text], "description": description, "examples": [example]}
    )
