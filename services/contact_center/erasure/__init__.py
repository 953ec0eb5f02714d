"""A customer erased on their request: what the contact centre forgets of them."""
