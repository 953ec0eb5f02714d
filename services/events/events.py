"""Events the events service publishes (frozen pydantic models, one per catalogue type)."""
