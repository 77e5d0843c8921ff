"""clocksync: keep a Clockify workspace in line with an HR CSV, by plan and apply."""

__version__ = "0.1.0"

__all__ = ["__version__"]
