"""The letters a complainant is sent: acknowledgement, holding reply and final response."""
