"""Apply: run an approved plan against the live workspace, record it, verify it."""
