"""What the services promise each other: the event catalogue, every event model, the on-wire
enums and the identifier helpers both sides of an event need.

A consumer team deploys its service with this package and ``shared``, never with another
service's code. It depends on pydantic and the standard library only (import-linter checks it).

Importing the package registers every event model, so that a consumer can decode any message
by its type and the AsyncAPI document lists them all.
"""

from contracts import complaints, contact_center, customer, decisions, opportunities

__all__ = ["complaints", "contact_center", "customer", "decisions", "opportunities"]
