"""Events the contact_center service publishes (frozen pydantic models, one per catalogue type)."""
