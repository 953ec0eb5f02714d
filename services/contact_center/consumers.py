"""Handlers of the events the contact_center service consumes, keyed by event model."""

from shared.consumer import Handlers

HANDLERS: Handlers = {}
