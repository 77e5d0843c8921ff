"""Loaders: the desired state (the CSV) and the current state (the Clockify API)."""
