"""Inbound calls: the caller identified, the screen pop, queueing and priority routing, and
what the desk does with a call (answer, hold, transfer, hang-up, wrap-up)."""
