"""Casework: the people and records the processes act on (users, children, schools)."""
