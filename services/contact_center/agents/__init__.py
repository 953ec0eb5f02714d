"""The agents on the floor and the states they set themselves."""
