"""Handlers of the events the events service consumes, keyed by event model."""

from shared.consumer import Handlers

HANDLERS: Handlers = {}
