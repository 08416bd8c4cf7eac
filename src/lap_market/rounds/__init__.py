"""Demand rounds: the partnership's call for demand with a deadline, the boroughs' returns,
what joining is worth, and one step to a joint tender."""
