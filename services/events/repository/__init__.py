"""The events service's queries, one module per topic: ``states`` (the per-customer state
and the consumed history), ``opportunities`` (with their firings) and ``rules``."""
