"""Handlers of the events the customer service consumes, keyed by event model."""

from shared.consumer import Handlers

HANDLERS: Handlers = {}
