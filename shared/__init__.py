"""Mechanisms every CRM service stands on: settings, database, bus, outbox and inbox,
event envelope and catalogue, metrics, logging and errors. No domain rules live here."""
