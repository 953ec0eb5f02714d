"""The one base of every model a client sends to a service.

Unknown fields are refused (a misspelt field is a 422 naming it, not silently dropped) and
surrounding white space is taken off strings, as channels often pad what their users typed.
"""

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
