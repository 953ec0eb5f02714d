"""The complaints service's queries: ``complaints`` (the cases and their history) and
``stats`` (the statistics over a period)."""
