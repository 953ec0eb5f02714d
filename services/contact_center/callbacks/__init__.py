"""Calls a customer asked for: scheduled, tried and closed."""
