"""Complaint returns: the figures each regulator asks for, in its own shape, for a period.

Each regulatory pack states as data how often it reports, which codes a case is classified by
(``taxonomy``), and which return forms apply from when; the handler's resolution proposal
records a case's classification; the returns are counted from the cases' history."""
