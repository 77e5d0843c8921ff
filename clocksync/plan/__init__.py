"""Plan: the pure differ, the sealed plan file, the safety thresholds, and ``make_plan``."""
