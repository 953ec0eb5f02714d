"""Events the customer service publishes (frozen pydantic models, one per catalogue type)."""
