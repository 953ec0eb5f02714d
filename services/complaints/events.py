"""Events the complaints service publishes (frozen pydantic models, one per catalogue type)."""
