"""Next best action: one ranked answer per customer, from the open opportunities and the
always-on offers of the action catalogue."""
