"""Contact-centre statistics: over a period, and the floor now."""
