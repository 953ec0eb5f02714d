"""Identifiers the bank takes from its customers, validated and tokenised: one module per
identifier (``resident_id``, ``social_credit_code``, ``cards``), each citing the standard its
rules come from. Masks follow OWASP guidance (ASVS V8 "Data Protection"): show only what the
caller needs; they live in ``shared.masking``. Phone numbers (the mainland numbering plan) are
normalised in ``contracts.identifiers``, as both sides of the bus need them.

Pure functions, standard library only, so any layer (schemas, answers, consumers) can use them.
"""
