"""Handlers of the events the complaints service consumes, keyed by event model."""

from shared.consumer import Handlers

HANDLERS: Handlers = {}
